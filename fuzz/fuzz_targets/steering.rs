//! Fuzz the steering-manifest parser: hostile JSON from a steering server.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ =
        streamsteer::steering::SteeringManifest::parse(&text, "https://steer.example/v1/s.json");
    let _ = streamsteer::steering::SteeringManifest::parse(&text, "data:application/json,{}");
});
