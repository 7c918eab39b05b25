//! Fuzz format detection plus both front ends.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(base) = streamsteer::uri::Url::parse("https://fuzz.example/manifest") else { return };
    if let Ok(p) = streamsteer::manifest::parse_any(&text, &base) {
        let _ = p.to_ladder();
    }
});
