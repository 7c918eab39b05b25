//! The fMP4 timing parser and sample demuxer on arbitrary bytes: the first two bytes
//! (big-endian) give the length of an init segment, the bytes after it are a media
//! segment, so the parsers and their interplay (track lookup, trex defaults, sample
//! placement) get exercised. The media part is also read as a DASH segment index
//! (`sidx`): the subsegments of a flat index must lie end to end after the box, in
//! time order. `scripts/fuzz.sh` seeds it with the CMAF fixtures in that
//! form (`init.mp4` + `seg_N.m4s`). Every sample the demuxer returns must lie inside the
//! media segment.
#![no_main]

use libfuzzer_sys::fuzz_target;
use streamsteer::container::{Fragment, InitSegment, SegmentIndexBox, demux};

fuzz_target!(|data: &[u8]| {
    let [hi, lo, rest @ ..] = data else { return };
    let split = usize::from(u16::from_be_bytes([*hi, *lo])).min(rest.len());
    let (init, media) = rest.split_at(split);
    let _ = Fragment::parse(media, &InitSegment { tracks: Vec::new() });
    let _ = demux(media, &InitSegment { tracks: Vec::new() });
    if let Ok(index) = SegmentIndexBox::parse(media) {
        // The index range as if it started at the init's length into the resource.
        let at = split as u64;
        if let Ok(subs) = index.subsegments(at) {
            let mut next = at + index.end + index.first_offset;
            let mut time = index.earliest_presentation_time;
            for s in subs {
                assert_eq!((s.offset, s.time), (next, time));
                next += s.size;
                time += s.duration;
            }
        }
    }
    if let Ok(init) = InitSegment::parse(init) {
        let _ = Fragment::parse(media, &init);
        if let Ok(samples) = demux(media, &init) {
            for s in samples {
                assert_eq!(s.data(media).map(<[u8]>::len), Some(s.size as usize));
            }
        }
    }
});
