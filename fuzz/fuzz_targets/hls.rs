//! Fuzz the HLS front end: parsing, merging a media playlist, and the ladder.
#![no_main]

use libfuzzer_sys::fuzz_target;
use streamsteer::uri::Url;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (Ok(master), Ok(media)) = (
        Url::parse("https://fuzz.example/a/master.m3u8"),
        Url::parse("https://fuzz.example/b/media.m3u8"),
    ) else {
        return;
    };
    if let Ok(mut p) = streamsteer::manifest::parse_hls(&text, &master) {
        let _ = p.to_ladder();
        // The same text as a (re)load of the first rendition exercises the merge path.
        let first = p.renditions().next().map(|r| r.id.clone());
        if let Some(id) = first {
            let _ = p.apply_media_playlist(&id, &text, &media);
            let _ = p.apply_media_playlist(&id, &text, &media);
        }
    }
});
