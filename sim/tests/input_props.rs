//! Hostile trace and ladder input never panics: it parses or gives an error.

use proptest::prelude::*;
use std::path::Path;
use streamsteer_sim::ladder_io::parse_sabre_movie;
use streamsteer_sim::trace::{Trace, TraceData};

fn line_soup() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("0".to_string()),
        Just("-1".to_string()),
        Just("1e308".to_string()),
        Just("NaN".to_string()),
        Just("inf".to_string()),
        Just("\t".to_string()),
        Just(" ".to_string()),
        Just("\n".to_string()),
        Just("[".to_string()),
        Just("{\"duration_ms\": 1000, \"bandwidth_kbps\": 0, \"latency_ms\": 5}".to_string()),
        "[0-9]{1,6}(\\.[0-9]{1,4})?",
        any::<String>(),
    ];
    prop::collection::vec(token, 0..40).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn trace_parser_never_panics(text in line_soup()) {
        if let Ok(trace) = Trace::parse("fuzz", &text) {
            // Whatever parsed converts without panicking and keeps its invariants.
            let (t, bw) = trace.to_cooked();
            prop_assert_eq!(t.len(), bw.len());
            prop_assert!(t.windows(2).all(|w| w[0] <= w[1]));
            let periods = trace.to_periods(0.95, 80.0);
            prop_assert!(periods.iter().all(|p| p.duration_ms > 0.0 || matches!(trace.data, TraceData::Periods(_))));
            prop_assert!(trace.mean_kbps().is_finite());
        }
    }

    #[test]
    fn sabre_movie_parser_never_panics(text in line_soup()) {
        let _ = parse_sabre_movie(Path::new("fuzz.json"), &text);
    }

    #[test]
    fn valid_cooked_traces_round_trip(samples in prop::collection::vec((0.01f64..10.0, 0.0f64..50.0), 2..50)) {
        let mut t = 0.0;
        let mut text = String::new();
        for (dt, mbps) in &samples {
            text.push_str(&format!("{t}\t{mbps}\n"));
            t += dt;
        }
        let trace = Trace::parse("ok", &text).unwrap();
        let (times, rates) = trace.to_cooked();
        prop_assert_eq!(times.len(), samples.len());
        for (r, (_, mbps)) in rates.iter().zip(&samples) {
            prop_assert!((r - mbps).abs() <= 1e-9 * mbps.max(1.0));
        }
    }
}
