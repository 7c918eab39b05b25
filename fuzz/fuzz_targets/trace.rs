//! Fuzz the network-trace and ladder readers of the simulator.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(trace) = streamsteer_sim::trace::Trace::parse("fuzz", &text) {
        let _ = trace.to_cooked();
        let _ = trace.to_periods(0.95, 80.0);
        let _ = trace.mean_kbps();
    }
    let _ = streamsteer_sim::ladder_io::parse_sabre_movie(Path::new("fuzz.json"), &text);
});
