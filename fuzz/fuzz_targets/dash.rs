//! Fuzz the DASH front end, static and at a fixed wall-clock time.
#![no_main]

use libfuzzer_sys::fuzz_target;
use streamsteer::uri::Url;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(base) = Url::parse("https://fuzz.example/x/manifest.mpd") else { return };
    if let Ok(p) = streamsteer::manifest::parse_dash(&text, &base) {
        let _ = p.to_ladder();
        for r in p.renditions() {
            if let streamsteer::manifest::SegmentIndex::LiveTemplate(t) = &r.index {
                let _ = t.segments_at(1.7e9);
            }
        }
    }
    let _ = streamsteer::manifest::parse_dash_at(&text, &base, Some(1.7e9));
});
