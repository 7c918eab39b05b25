//! Fuzz the lite MPD reader (the browser build's DASH front end), static and at a
//! fixed wall-clock time, like the `dash` target; and check it against the serde
//! reader: when both read a document they must give the same presentation (the
//! converter is shared, so a difference is a difference in what the readers read).
#![no_main]

use libfuzzer_sys::fuzz_target;
use streamsteer::manifest::{SegmentIndex, parse_dash_at, parse_dash_lite_at};
use streamsteer::uri::Url;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(base) = Url::parse("https://fuzz.example/x/manifest.mpd") else { return };
    for now in [None, Some(1.7e9)] {
        let lite = parse_dash_lite_at(&text, &base, now);
        if let Ok(p) = &lite {
            let _ = p.to_ladder();
            for r in p.renditions() {
                if let SegmentIndex::LiveTemplate(t) = &r.index {
                    let _ = t.segments_at(1.7e9);
                }
            }
        }
        if let (Ok(a), Ok(b)) = (parse_dash_at(&text, &base, now), &lite) {
            assert!(a == *b, "the readers differ at {now:?}:\nserde: {a:#?}\nlite: {b:#?}");
        }
    }
});
