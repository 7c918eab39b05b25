//! The fMP4 timing parser and sample demuxer on arbitrary bytes: the first two bytes
//! (big-endian) give the length of an init segment, the bytes after it are a media
//! segment, so the parsers and their interplay (track lookup, trex defaults, sample
//! placement) get exercised. `scripts/fuzz.sh` seeds it with the CMAF fixtures in that
//! form (`init.mp4` + `seg_N.m4s`). Every sample the demuxer returns must lie inside the
//! media segment.
#![no_main]

use libfuzzer_sys::fuzz_target;
use streamsteer::container::{Fragment, InitSegment, demux};

fuzz_target!(|data: &[u8]| {
    let [hi, lo, rest @ ..] = data else { return };
    let split = usize::from(u16::from_be_bytes([*hi, *lo])).min(rest.len());
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
