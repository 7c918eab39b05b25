//! The fMP4 timing parser on arbitrary bytes: the input is split at its first byte's
//! worth of position into an init segment and a media segment, so both parsers and
//! their interplay (track lookup, trex defaults) get exercised.
#![no_main]

use libfuzzer_sys::fuzz_target;
use streamsteer::media::{Fragment, InitSegment};

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else { return };
    let split = (usize::from(split) * rest.len()) / 256;
    let (init, media) = rest.split_at(split);
    let _ = Fragment::parse(media, &InitSegment { tracks: Vec::new() });
    if let Ok(init) = InitSegment::parse(init) {
        let _ = Fragment::parse(media, &init);
    }
});
