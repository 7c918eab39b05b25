//! The fMP4 timing parser and sample demuxer on arbitrary bytes: the input is split at
//! its first byte's worth of position into an init segment and a media segment, so the
//! parsers and their interplay (track lookup, trex defaults, sample placement) get
//! exercised. Every sample the demuxer returns must lie inside the media segment.
#![no_main]

use libfuzzer_sys::fuzz_target;
use streamsteer::media::{Fragment, InitSegment, demux};

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else { return };
    let split = (usize::from(split) * rest.len()) / 256;
    let (init, media) = rest.split_at(split);
    let _ = Fragment::parse(media, &InitSegment { tracks: Vec::new() });
    let _ = demux(media, &InitSegment { tracks: Vec::new() });
    if let Ok(init) = InitSegment::parse(init) {
        let _ = Fragment::parse(media, &init);
        if let Ok(samples) = demux(media, &init) {
            for s in samples {
                assert_eq!(s.data(media).map(<[u8]>::len), Some(s.size as usize));
            }
        }
    }
});
