//! Fuzz format detection plus both front ends.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(p) = streamsteer::manifest::parse_any(&text, "fuzz/manifest") {
        let _ = p.to_ladder();
    }
});
