//! The fMP4 sample demuxer and decoder configuration against the committed ffmpeg
//! fixture (`tests/fixtures/cmaf`), whose every packet's position, size, timestamps
//! and key flag were recorded below from `ffprobe -show_packets -of json` on
//! `cat init.mp4 seg_0.m4s … seg_3.m4s`; against hand-built boxes for the layouts
//! ffmpeg does not emit; and against truncated, corrupted and random input.

use proptest::prelude::*;
use streamsteer::container::{
    Colour, DecoderConfig, Fmp4Error, Fragment, InitSegment, NclxColour, Sample, demux,
};

fn fixture(rel: &str) -> Vec<u8> {
    let path = format!("{}/../tests/fixtures/cmaf/{rel}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading fixture {path}: {e}"))
}

fn segments(rendition: &str) -> Vec<Vec<u8>> {
    (0..4).map(|n| fixture(&format!("{rendition}/seg_{n}.m4s"))).collect()
}

/// Offset of the first occurrence of box type `kind` (its header start).
fn find_box(data: &[u8], kind: &[u8; 4]) -> usize {
    data.windows(4).position(|w| w == kind).expect("box present") - 4
}

/// How far ffprobe's timestamps sit before the media timeline, ticks. The video init
/// segments' edit list is an empty edit of 66 ms (movie timescale 1000, so 1014 ticks
/// at 15360 after ffmpeg's rounding) followed by media time 1024 (two B-frames of
/// reorder delay); ffmpeg applies both, shifting every dts and pts by 1024 − 1014.
/// The audio track has no edit list.
const VIDEO_SHIFT: i64 = 1024 - 1014;

/// The samples of every segment of `rendition`, with each segment's index.
fn demux_rendition(rendition: &str) -> (InitSegment, Vec<(usize, Sample)>) {
    let init = InitSegment::parse(&fixture(&format!("{rendition}/init.mp4"))).unwrap();
    let mut all = vec![];
    for (n, seg) in segments(rendition).iter().enumerate() {
        all.extend(demux(seg, &init).unwrap().into_iter().map(|s| (n, s)));
    }
    (init, all)
}

#[test]
fn every_sample_matches_ffprobe() {
    for (rendition, expected, shift) in [
        ("video/v0", &V0[..], VIDEO_SHIFT),
        ("video/v1", &V1[..], VIDEO_SHIFT),
        ("audio/a0", &A0[..], 0),
    ] {
        let (init, samples) = demux_rendition(rendition);
        let track = &init.tracks[0];
        if shift != 0 {
            assert_eq!(track.edit_media_time, 1024);
        }
        let segs = segments(rendition);
        assert_eq!(samples.len(), expected.len(), "{rendition}");
        for (i, ((seg, s), row)) in samples.iter().zip(expected).enumerate() {
            let [e_seg, e_offset, e_size, e_dts, e_pts, e_duration, e_key] = *row;
            let at = format!("{rendition} packet {i}");
            assert_eq!(*seg as i64, e_seg, "{at}");
            assert_eq!(s.track_id, 1, "{at}");
            assert_eq!(s.timescale, track.timescale, "{at}");
            assert_eq!(s.offset as i64, e_offset, "{at}");
            assert_eq!(i64::from(s.size), e_size, "{at}");
            assert_eq!(s.decode_time as i64 - shift, e_dts, "{at}");
            assert_eq!(s.composition_time - shift, e_pts, "{at}");
            assert_eq!(s.is_sync(), e_key == 1, "{at}");
            let last = i == expected.len() - 1;
            if shift == 0 && last {
                // ffprobe shows the trimmed last AAC frame as 1024; trun and sidx say
                // 496 (see the fixture README).
                assert_eq!(s.duration, 496, "{at}");
            } else if e_duration != -1 {
                assert_eq!(i64::from(s.duration), e_duration, "{at}");
            }
            let data = s.data(&segs[*seg]).unwrap();
            assert_eq!(data.len(), s.size as usize);
            assert_eq!(data.as_ptr(), segs[*seg][s.offset..].as_ptr(), "zero-copy");
            assert_eq!(s.decode_time_s(), s.decode_time as f64 / f64::from(track.timescale));
            assert_eq!(s.composition_offset(), s.composition_time - s.decode_time as i64);
        }
        // Durations tile the decode timeline, across segment boundaries too.
        for pair in samples.windows(2) {
            assert_eq!(
                pair[0].1.decode_time + u64::from(pair[0].1.duration),
                pair[1].1.decode_time
            );
        }
    }
}

#[test]
fn demux_agrees_with_the_timing_parser() {
    for rendition in ["video/v0", "video/v1", "audio/a0"] {
        let init = InitSegment::parse(&fixture(&format!("{rendition}/init.mp4"))).unwrap();
        for seg in segments(rendition) {
            let run = Fragment::parse(&seg, &init).unwrap().tracks[0].clone();
            let samples = demux(&seg, &init).unwrap();
            assert_eq!(samples.len(), run.sample_count as usize);
            assert_eq!(samples[0].decode_time, run.base_decode_time);
            let total: u64 = samples.iter().map(|s| u64::from(s.duration)).sum();
            assert_eq!(total, run.duration_ticks);
        }
    }
}

#[test]
fn video_samples_are_length_prefixed_nal_units_with_idr_exactly_at_keyframes() {
    for rendition in ["video/v0", "video/v1"] {
        let (init, samples) = demux_rendition(rendition);
        let DecoderConfig::Avc(avc) = &init.tracks[0].config else { panic!("not avc") };
        let len_size = usize::from(avc.nal_length_size);
        let segs = segments(rendition);
        for (seg, s) in &samples {
            let mut data = s.data(&segs[*seg]).unwrap();
            let mut has_idr = false;
            // The NAL units must tile the sample exactly.
            while !data.is_empty() {
                let len = data[..len_size].iter().fold(0usize, |a, &b| a << 8 | usize::from(b));
                let nal = &data[len_size..len_size + len];
                has_idr |= nal[0] & 0x1f == 5;
                data = &data[len_size + len..];
            }
            assert_eq!(has_idr, s.is_sync(), "{rendition} seg {seg} dts {}", s.decode_time);
        }
        // One closed 1 s GOP per segment: exactly the first sample of each is a keyframe.
        let keys: Vec<_> =
            samples.iter().filter(|(_, s)| s.is_sync()).map(|(n, s)| (*n, s.decode_time)).collect();
        assert_eq!(keys, [(0, 0), (1, 15360), (2, 30720), (3, 46080)]);
    }
}

#[test]
fn decoder_configs_of_the_fixture_match_ffprobe() {
    // `cat init.mp4 seg_0.m4s | ffprobe -show_streams`: profile=High, level=11 (v0)
    // and 13 (v1), nal_length_size=4, pix_fmt=yuv420p; the init segments carry no
    // colr box.
    for (rendition, level) in [("video/v0", 11), ("video/v1", 13)] {
        let init = InitSegment::parse(&fixture(&format!("{rendition}/init.mp4"))).unwrap();
        let t = &init.tracks[0];
        let DecoderConfig::Avc(avc) = &t.config else { panic!("{:?}", t.config) };
        assert_eq!((avc.profile, avc.level, avc.nal_length_size), (100, level, 4));
        assert_eq!(
            t.codecs.as_deref(),
            Some(&*format!("avc1.{:02x}{:02x}{:02x}", avc.profile, avc.constraints, avc.level))
        );
        assert_eq!((avc.sps.len(), avc.pps.len()), (1, 1));
        // NAL headers: SPS (type 7) whose first three payload bytes repeat the
        // record's profile, constraints and level; PPS (type 8).
        assert_eq!(avc.sps[0][0] & 0x1f, 7);
        assert_eq!(avc.sps[0][1..4], [avc.profile, avc.constraints, avc.level]);
        assert_eq!(avc.pps[0][0] & 0x1f, 8);
        assert_eq!(
            (avc.chroma_format, avc.bit_depth_luma, avc.bit_depth_chroma),
            (Some(1), Some(8), Some(8))
        );
        let init_bytes = fixture(&format!("{rendition}/init.mp4"));
        let avcc = find_box(&init_bytes, b"avcC");
        let size = u32::from_be_bytes(init_bytes[avcc..avcc + 4].try_into().unwrap()) as usize;
        assert_eq!(avc.record, init_bytes[avcc + 8..avcc + size]);
        assert_eq!(t.colour, None);
    }
    // ffprobe: aac (LC), 48000 Hz, 2 channels.
    let init = InitSegment::parse(&fixture("audio/a0/init.mp4")).unwrap();
    let t = &init.tracks[0];
    let DecoderConfig::Aac(aac) = &t.config else { panic!("{:?}", t.config) };
    assert_eq!(aac.object_type_indication, 0x40);
    assert_eq!(aac.audio_object_type, 2);
    assert_eq!((aac.sample_rate_index, aac.sample_rate), (3, Some(48000)));
    assert_eq!(aac.channel_config, 2);
    // 5 bits AOT 2, 4 bits index 3, 4 bits channels 2: 0x11 0x90, then ffmpeg's
    // backward-compatible SBR signalling (sync extension 0x2b7).
    assert_eq!(aac.audio_specific_config[..2], [0x11, 0x90]);
    assert_eq!(aac.audio_specific_config.len(), 5);
    assert_eq!(t.colour, None);
}

#[test]
fn every_truncation_of_a_segment_is_an_error() {
    let init = InitSegment::parse(&fixture("video/v0/init.mp4")).unwrap();
    let seg = fixture("video/v0/seg_0.m4s");
    let mdat = find_box(&seg, b"mdat");
    for cut in 0..seg.len() {
        match demux(&seg[..cut], &init) {
            Ok(s) => panic!("cut {cut} gave {} samples", s.len()),
            // Cut between moof and mdat: the samples point at data that is not there.
            Err(Fmp4Error::SampleOutOfBounds { sample, start, end, .. }) => {
                assert_eq!((cut, sample), (mdat, 0));
                assert_eq!((start, end), (mdat as i128 + 8, mdat as i128 + 8 + 1524));
            }
            Err(_) => {}
        }
    }
}

#[test]
fn corrupted_offsets_and_sizes_are_typed_errors() {
    let init = InitSegment::parse(&fixture("video/v0/init.mp4")).unwrap();
    let seg = fixture("video/v0/seg_1.m4s");
    let samples = demux(&seg, &init).unwrap();
    let trun = find_box(&seg, b"trun");
    let mdat = find_box(&seg, b"mdat");
    let moof = find_box(&seg, b"moof");

    // The data offset moved forward by one byte: the last sample now spills past mdat.
    let mut bad = seg.clone();
    let offset = i32::from_be_bytes(bad[trun + 16..trun + 20].try_into().unwrap());
    bad[trun + 16..trun + 20].copy_from_slice(&(offset + 1).to_be_bytes());
    let last = samples.last().unwrap();
    assert_eq!(
        demux(&bad, &init),
        Err(Fmp4Error::SampleOutOfBounds {
            track_id: 1,
            sample: 29,
            start: last.offset as i128 + 1,
            end: last.range().end as i128 + 1,
        })
    );

    // A data offset pointing back into the moof, and one before the buffer start.
    for (offset, start) in [(8, moof as i128 + 8), (-(moof as i32) - 100, -100)] {
        let mut bad = seg.clone();
        bad[trun + 16..trun + 20].copy_from_slice(&offset.to_be_bytes());
        assert_eq!(
            demux(&bad, &init),
            Err(Fmp4Error::SampleOutOfBounds { track_id: 1, sample: 0, start, end: start + 1456 })
        );
    }

    // The first sample's size grown by the mdat length.
    let mut bad = seg.clone();
    let size_at = trun + 24; // full box 12, count 4, data offset 4, first flags 4
    let mdat_len = seg.len() - mdat;
    let first = u32::from_be_bytes(bad[size_at..size_at + 4].try_into().unwrap());
    assert_eq!(first, samples[0].size);
    bad[size_at..size_at + 4].copy_from_slice(&(first + mdat_len as u32).to_be_bytes());
    assert!(matches!(demux(&bad, &init), Err(Fmp4Error::SampleOutOfBounds { sample: 0, .. })));

    // A sample count beyond the trun's entries.
    let mut bad = seg.clone();
    bad[trun + 12..trun + 16].copy_from_slice(&31u32.to_be_bytes());
    assert!(
        matches!(demux(&bad, &init), Err(Fmp4Error::Truncated { box_type, .. }) if box_type == *b"trun")
    );

    // An undeclared track, and no moof at all.
    let mut bad = seg.clone();
    let tfhd = find_box(&bad, b"tfhd");
    bad[tfhd + 12..tfhd + 16].copy_from_slice(&9u32.to_be_bytes());
    assert_eq!(demux(&bad, &init), Err(Fmp4Error::UnknownTrack(9)));
    assert!(
        matches!(demux(&fixture("video/v0/init.mp4"), &init), Err(Fmp4Error::MissingBox { box_type, .. }) if box_type == *b"moof")
    );
}

// ---- hand-built boxes, for layouts ffmpeg does not produce ----

fn mp4_box(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(body);
    out
}

fn full_box(kind: &[u8; 4], version: u8, flags: u32, fields: &[u8]) -> Vec<u8> {
    let mut body = vec![version];
    body.extend_from_slice(&flags.to_be_bytes()[1..]);
    body.extend_from_slice(fields);
    mp4_box(kind, &body)
}

fn u32s(values: &[u32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_be_bytes()).collect()
}

/// ISO 14496-1 descriptor with the four-byte size form ffmpeg writes.
fn descriptor(tag: u8, payload: &[u8]) -> Vec<u8> {
    let n = payload.len();
    let mut out = vec![tag, 0x80 | (n >> 21) as u8, 0x80 | (n >> 14) as u8, 0x80 | (n >> 7) as u8];
    out.push((n & 0x7f) as u8);
    out.extend_from_slice(payload);
    out
}

/// AV1 sequence-header OBU bytes stand-in for the av1C configOBUs.
const CONFIG_OBUS: [u8; 6] = [0x0a, 0x0b, 0x00, 0x00, 0x00, 0x42];
/// AudioSpecificConfig: escaped object type 42, explicit 44100 Hz, 1 channel.
const ESCAPED_ASC: [u8; 6] = [0xf9, 0x5e, 0x01, 0x58, 0x88, 0x20];

/// An init segment with a 90 kHz AV1 video track 7 (10-bit 4:2:0, BT.2020/PQ full
/// range `colr`; trex: 3000 ticks, 100 bytes, non-sync) and a 44.1 kHz audio track 8
/// (`esds` with an escaped object type and an explicit rate; trex: 1024 ticks, no size).
fn synthetic_init() -> Vec<u8> {
    let mvhd = full_box(b"mvhd", 0, 0, &[&[0u8; 8][..], &u32s(&[1000, 0]), &[0u8; 80]].concat());
    let trak = |id: u32, handler: &[u8; 4], timescale: u32, entry: Vec<u8>| {
        let tkhd = full_box(
            b"tkhd",
            0,
            7,
            &[&[0u8; 8][..], &u32s(&[id, 0, 0]), &[0u8; 8 + 8 + 36], &u32s(&[0, 0])].concat(),
        );
        let mdhd =
            full_box(b"mdhd", 0, 0, &[&[0u8; 8][..], &u32s(&[timescale, 0]), &[0u8; 4]].concat());
        let hdlr = full_box(b"hdlr", 0, 0, &[&[0u8; 4][..], handler, &[0u8; 12], b"h\0"].concat());
        let stsd = full_box(b"stsd", 0, 0, &[&u32s(&[1])[..], &entry].concat());
        let minf = mp4_box(b"minf", &mp4_box(b"stbl", &stsd));
        let mdia = mp4_box(b"mdia", &[mdhd, hdlr, minf].concat());
        mp4_box(b"trak", &[tkhd, mdia].concat())
    };
    let av1c = mp4_box(b"av1C", &[&[0x81, 0x08, 0x4d, 0x13][..], &CONFIG_OBUS].concat());
    let colr = mp4_box(b"colr", &[&b"nclx"[..], &[0, 9, 0, 16, 0, 9, 0x80]].concat());
    let mut visual = vec![0u8; 78];
    visual[24..28].copy_from_slice(&[0x05, 0x00, 0x02, 0xd0]); // 1280x720
    let av01 = mp4_box(b"av01", &[visual, av1c, colr].concat());
    let dsi = descriptor(0x05, &ESCAPED_ASC);
    let dcd = descriptor(0x04, &[&[0x40, 0x15, 0, 0, 0][..], &[0u8; 8], &dsi].concat());
    let es = descriptor(0x03, &[&[0, 1, 0][..], &dcd, &descriptor(0x06, &[2])].concat());
    let esds = full_box(b"esds", 0, 0, &es);
    let mut audio = vec![0u8; 28];
    audio[16..18].copy_from_slice(&1u16.to_be_bytes());
    audio[24..28].copy_from_slice(&(44100u32 << 16).to_be_bytes());
    let mp4a = mp4_box(b"mp4a", &[audio, esds].concat());
    let trex = |id: u32, dur: u32, size: u32, flags: u32| {
        full_box(b"trex", 0, 0, &u32s(&[id, 1, dur, size, flags]))
    };
    let mvex = mp4_box(b"mvex", &[trex(7, 3000, 100, 0x0101_0000), trex(8, 1024, 0, 0)].concat());
    let moov = mp4_box(
        b"moov",
        &[mvhd, trak(7, b"vide", 90000, av01), trak(8, b"soun", 44100, mp4a), mvex].concat(),
    );
    [mp4_box(b"ftyp", b"iso6\0\0\0\0"), moov].concat()
}

#[test]
fn av1_and_escaped_aac_configs_and_nclx_colour() {
    let init = InitSegment::parse(&synthetic_init()).unwrap();
    let v = init.track(7).unwrap();
    assert_eq!((v.width, v.height), (1280, 720));
    assert_eq!(v.codecs.as_deref(), Some("av01.0.08M.10"));
    let DecoderConfig::Av1(av1) = &v.config else { panic!("{:?}", v.config) };
    assert_eq!(
        (av1.seq_profile, av1.seq_level_idx, av1.high_tier, av1.bit_depth),
        (0, 8, false, 10)
    );
    assert!(!av1.monochrome);
    assert_eq!((av1.chroma_subsampling_x, av1.chroma_subsampling_y), (true, true));
    assert_eq!(av1.chroma_sample_position, 1);
    assert_eq!(av1.initial_presentation_delay, Some(4));
    assert_eq!(av1.config_obus, CONFIG_OBUS);
    assert_eq!(av1.record[..4], [0x81, 0x08, 0x4d, 0x13]);
    assert_eq!(
        v.colour,
        Some(Colour::Nclx(NclxColour { primaries: 9, transfer: 16, matrix: 9, full_range: true }))
    );
    let a = init.track(8).unwrap();
    let DecoderConfig::Aac(aac) = &a.config else { panic!("{:?}", a.config) };
    assert_eq!((aac.object_type_indication, aac.audio_object_type), (0x40, 42));
    assert_eq!((aac.sample_rate_index, aac.sample_rate, aac.channel_config), (15, Some(44100), 1));
    assert_eq!(aac.audio_specific_config, ESCAPED_ASC);
    assert_eq!(a.codecs.as_deref(), Some("mp4a.40.42"));
    assert_eq!(a.colour, None);
}

#[test]
fn malformed_configs_are_typed_errors_or_unknown() {
    let good = synthetic_init();
    // avcC-less av01 entry: configuration unknown, not an error.
    let mut no_av1c = good.clone();
    let at = find_box(&no_av1c, b"av1C");
    no_av1c[at + 4..at + 8].copy_from_slice(b"free");
    let init = InitSegment::parse(&no_av1c).unwrap();
    assert_eq!(init.track(7).unwrap().config, DecoderConfig::Unknown { fourcc: (*b"av01").into() });
    // av1C without its marker bit.
    let mut bad = good.clone();
    bad[at + 8] = 0x01;
    assert!(
        matches!(InitSegment::parse(&bad), Err(Fmp4Error::BadBox { box_type, .. }) if box_type == *b"av1C")
    );
    // An AudioSpecificConfig cut inside its explicit frequency.
    let mut bad = good.clone();
    let dsi = bad.windows(6).position(|w| w == ESCAPED_ASC).unwrap();
    bad[dsi - 1] = 2;
    assert!(
        matches!(InitSegment::parse(&bad), Err(Fmp4Error::Truncated { box_type, .. }) if box_type == *b"esds")
    );
}

/// A `trun` box of `version` with `flags`, `count` and the given fields.
fn trun(version: u8, flags: u32, count: u32, fields: &[u32]) -> Vec<u8> {
    full_box(b"trun", version, flags, &[&u32s(&[count])[..], &u32s(fields)].concat())
}

/// mdat content where sample `k` of a layout is `sizes[k]` bytes of value `k`.
fn filled(sizes: &[usize]) -> Vec<u8> {
    sizes.iter().enumerate().flat_map(|(k, &n)| std::iter::repeat_n(k as u8, n)).collect()
}

/// Two moofs exercising every placement rule; `video_offset_delta` moves the first
/// video trun's data offset. Returns the segment and the two mdat body offsets.
fn synthetic_segment(video_offset_delta: i32) -> (Vec<u8>, usize, usize) {
    let moof1 = |data_offset: u32| {
        // Video: no tfhd defaults (trex's 3000 ticks, 100 bytes, non-sync apply), a
        // version-1 trun with a data offset, first-sample flags and negative
        // composition offsets. No default-base-is-moof: the first traf counts from the
        // moof.
        let video = mp4_box(
            b"traf",
            &[
                full_box(b"tfhd", 0, 0, &u32s(&[7])),
                full_box(b"tfdt", 1, 0, &90_000u64.to_be_bytes()),
                trun(
                    1,
                    0x805,
                    3,
                    &[data_offset, 0x0200_0000, (-1000i32) as u32, 2000, (-4000i32) as u32],
                ),
            ]
            .concat(),
        );
        // Audio: tfhd default duration 2048 and size 10; the first trun has no data
        // offset (so it follows the previous traf's data), the second has sizes only
        // and follows the first.
        let audio = mp4_box(
            b"traf",
            &[
                full_box(b"tfhd", 0, 0x18, &u32s(&[8, 2048, 10])),
                full_box(b"tfdt", 0, 0, &u32s(&[44_100])),
                trun(0, 0, 2, &[]),
                trun(0, 0x200, 1, &[7]),
            ]
            .concat(),
        );
        mp4_box(b"moof", &[full_box(b"mfhd", 0, 0, &u32s(&[1])), video, audio].concat())
    };
    let len1 = moof1(0).len();
    let moof1 = moof1((len1 as i32 + 8 + video_offset_delta) as u32);
    let mdat1 = mp4_box(b"mdat", &filled(&[100, 100, 100, 10, 10, 7]));
    let mdat2_body = len1 + mdat1.len();
    // moof 2: video with an explicit tfhd base data offset and no tfdt (it continues
    // the track), a trun with durations and sizes.
    let moof2 = |base: u64| {
        let traf = mp4_box(
            b"traf",
            &[
                full_box(b"tfhd", 0, 0x01, &[&u32s(&[7])[..], &base.to_be_bytes()].concat()),
                trun(0, 0x301, 2, &[0, 1500, 5, 1500, 6]),
            ]
            .concat(),
        );
        mp4_box(b"moof", &[full_box(b"mfhd", 0, 0, &u32s(&[2])), traf].concat())
    };
    let len2 = moof2(0).len();
    let mdat2_body = mdat2_body + len2 + 8;
    let moof2 = moof2(mdat2_body as u64);
    let mdat2 = mp4_box(b"mdat", &filled(&[5, 6]));
    ([moof1, mdat1, moof2, mdat2].concat(), len1 + 8, mdat2_body)
}

#[test]
fn hand_built_segment_places_and_times_every_sample() {
    let init = InitSegment::parse(&synthetic_init()).unwrap();
    let (seg, mdat1, mdat2) = synthetic_segment(0);
    let samples = demux(&seg, &init).unwrap();
    let got: Vec<_> = samples
        .iter()
        .map(|s| {
            (
                s.track_id,
                s.decode_time,
                s.composition_time,
                s.duration,
                s.offset,
                s.size,
                s.is_sync(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (7, 90_000, 89_000, 3000, mdat1, 100, true),
            (7, 93_000, 95_000, 3000, mdat1 + 100, 100, false),
            (7, 96_000, 92_000, 3000, mdat1 + 200, 100, false),
            (8, 44_100, 44_100, 2048, mdat1 + 300, 10, true),
            (8, 46_148, 46_148, 2048, mdat1 + 310, 10, true),
            (8, 48_196, 48_196, 2048, mdat1 + 320, 7, true),
            (7, 99_000, 99_000, 1500, mdat2, 5, false),
            (7, 100_500, 100_500, 1500, mdat2 + 5, 6, false),
        ]
    );
    // Each sample's bytes are the ones laid down for it.
    let ks = [0u8, 1, 2, 3, 4, 5, 0, 1];
    for (s, k) in samples.iter().zip(ks) {
        assert!(s.data(&seg).unwrap().iter().all(|&b| b == k), "{s:?}");
    }
    assert_eq!(samples[1].composition_offset(), 2000);
    assert_eq!(samples[2].composition_offset(), -4000);
    assert!(samples[1].flags.is_non_sync());
    assert_eq!(samples[0].flags.depends_on(), 2);
    // The timing parser agrees on counts and spans.
    let f = Fragment::parse(&seg, &init).unwrap();
    assert_eq!(f.track(7).unwrap().sample_count, 5);
    assert_eq!(f.track(7).unwrap().duration_ticks, 3 * 3000 + 2 * 1500);
    assert_eq!(f.track(8).unwrap().duration_ticks, 3 * 2048);
}

#[test]
fn hand_built_data_outside_an_mdat_is_rejected() {
    let init = InitSegment::parse(&synthetic_init()).unwrap();
    // 290 bytes later the video run starts 10 bytes before mdat1's end: its first
    // sample runs over into moof 2, which is inside the buffer but not an mdat.
    let (seg, mdat1, _) = synthetic_segment(290);
    assert_eq!(
        demux(&seg, &init),
        Err(Fmp4Error::SampleOutOfBounds {
            track_id: 7,
            sample: 0,
            start: (mdat1 + 290) as i128,
            end: (mdat1 + 390) as i128
        })
    );
    // One byte later, the video fits but the audio that follows it spills over.
    let (seg, mdat1, _) = synthetic_segment(1);
    assert_eq!(
        demux(&seg, &init),
        Err(Fmp4Error::SampleOutOfBounds {
            track_id: 8,
            sample: 2,
            start: (mdat1 + 321) as i128,
            end: (mdat1 + 328) as i128
        })
    );
    // One byte earlier, the first sample starts inside the mdat header.
    let (seg, mdat1, _) = synthetic_segment(-1);
    assert_eq!(
        demux(&seg, &init),
        Err(Fmp4Error::SampleOutOfBounds {
            track_id: 7,
            sample: 0,
            start: mdat1 as i128 - 1,
            end: mdat1 as i128 + 99
        })
    );
}

#[test]
fn huge_sample_counts_without_entries_are_rejected_before_allocating() {
    let init = InitSegment::parse(&synthetic_init()).unwrap();
    for default_size in [0u32, 100] {
        let traf = mp4_box(
            b"traf",
            &[
                full_box(b"tfhd", 0, 0x02_0010, &u32s(&[7, default_size])),
                full_box(b"tfdt", 0, 0, &u32s(&[0])),
                trun(0, 0, u32::MAX, &[]),
            ]
            .concat(),
        );
        let seg = [mp4_box(b"moof", &traf), mp4_box(b"mdat", &[0; 64])].concat();
        let err = demux(&seg, &init).unwrap_err();
        assert!(
            matches!(&err, Fmp4Error::BadBox { box_type, .. } if *box_type == *b"trun"),
            "{err}"
        );
        assert!(err.to_string().contains("4294967295 samples claimed"), "{err}");
    }
}

// ---- never panic ----

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        let init = InitSegment::parse(&fixture("video/v0/init.mp4")).unwrap();
        let _ = demux(&data, &init);
        if let Ok(init) = InitSegment::parse(&data) {
            let _ = demux(&data, &init);
        }
    }

    #[test]
    fn mutated_real_and_hand_built_segments_never_panic_and_stay_in_bounds(
        which in 0usize..4,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let (init_bytes, mut seg) = if which == 3 {
            (synthetic_init(), synthetic_segment(0).0)
        } else {
            let rendition = ["video/v0", "video/v1", "audio/a0"][which];
            (fixture(&format!("{rendition}/init.mp4")), fixture(&format!("{rendition}/seg_2.m4s")))
        };
        let init = InitSegment::parse(&init_bytes).unwrap();
        // Mutate the headers, where the bytes drive the parse.
        let header_len = find_box(&seg, b"mdat") + 8;
        let mut mutated_init = init_bytes.clone();
        for (i, byte) in &edits {
            seg[i.index(header_len)] = *byte;
            let j = i.index(mutated_init.len());
            mutated_init[j] = *byte;
        }
        for data in [&seg[..], &seg[..cut.index(seg.len())]] {
            if let Ok(samples) = demux(data, &init) {
                for s in samples {
                    prop_assert!(s.range().end <= data.len());
                    prop_assert_eq!(s.data(data).map(<[u8]>::len), Some(s.size as usize));
                }
            }
        }
        if let Ok(mutated) = InitSegment::parse(&mutated_init) {
            let _ = demux(&seg, &mutated);
        }
    }
}

/// `video/v0`: (segment, byte offset in the segment, size, dts, pts, duration (−1: N/A), key).
const V0: [[i64; 7]; 120] = [
    [0, 428, 1524, -10, 1014, 512, 1],
    [0, 1952, 111, 502, 1526, 512, 0],
    [0, 2063, 226, 1014, 3062, 512, 0],
    [0, 2289, 62, 1526, 2038, 512, 0],
    [0, 2351, 49, 2038, 2550, 512, 0],
    [0, 2400, 147, 2550, 3574, 512, 0],
    [0, 2547, 347, 3062, 5622, 512, 0],
    [0, 2894, 110, 3574, 4598, 512, 0],
    [0, 3004, 45, 4086, 4086, 512, 0],
    [0, 3049, 28, 4598, 5110, 512, 0],
    [0, 3077, 364, 5110, 7158, 512, 0],
    [0, 3441, 63, 5622, 6134, 512, 0],
    [0, 3504, 36, 6134, 6646, 512, 0],
    [0, 3540, 438, 6646, 9206, 512, 0],
    [0, 3978, 114, 7158, 8182, 512, 0],
    [0, 4092, 46, 7670, 7670, 512, 0],
    [0, 4138, 78, 8182, 8694, 512, 0],
    [0, 4216, 431, 8694, 9718, 512, 0],
    [0, 4647, 522, 9206, 11766, 512, 0],
    [0, 5169, 184, 9718, 10742, 512, 0],
    [0, 5353, 111, 10230, 10230, 512, 0],
    [0, 5464, 84, 10742, 11254, 512, 0],
    [0, 5548, 487, 11254, 12790, 512, 0],
    [0, 6035, 91, 11766, 12278, 512, 0],
    [0, 6126, 540, 12278, 14838, 512, 0],
    [0, 6666, 195, 12790, 13814, 512, 0],
    [0, 6861, 121, 13302, 13302, 512, 0],
    [0, 6982, 106, 13814, 14326, 512, 0],
    [0, 7088, 236, 14326, 15862, 512, 0],
    [0, 7324, 108, 14838, 15350, 512, 0],
    [1, 428, 1456, 15350, 16374, 512, 1],
    [1, 1884, 490, 15862, 18422, 512, 0],
    [1, 2374, 186, 16374, 17398, 512, 0],
    [1, 2560, 97, 16886, 16886, 512, 0],
    [1, 2657, 146, 17398, 17910, 512, 0],
    [1, 2803, 301, 17910, 19958, 512, 0],
    [1, 3104, 138, 18422, 18934, 512, 0],
    [1, 3242, 92, 18934, 19446, 512, 0],
    [1, 3334, 311, 19446, 21494, 512, 0],
    [1, 3645, 154, 19958, 20470, 512, 0],
    [1, 3799, 100, 20470, 20982, 512, 0],
    [1, 3899, 405, 20982, 22518, 512, 0],
    [1, 4304, 118, 21494, 22006, 512, 0],
    [1, 4422, 468, 22006, 23030, 512, 0],
    [1, 4890, 432, 22518, 24566, 512, 0],
    [1, 5322, 166, 23030, 23542, 512, 0],
    [1, 5488, 141, 23542, 24054, 512, 0],
    [1, 5629, 376, 24054, 25078, 512, 0],
    [1, 6005, 494, 24566, 26102, 512, 0],
    [1, 6499, 139, 25078, 25590, 512, 0],
    [1, 6638, 582, 25590, 28150, 512, 0],
    [1, 7220, 226, 26102, 27126, 512, 0],
    [1, 7446, 135, 26614, 26614, 512, 0],
    [1, 7581, 128, 27126, 27638, 512, 0],
    [1, 7709, 340, 27638, 28662, 512, 0],
    [1, 8049, 310, 28150, 29174, 512, 0],
    [1, 8359, 580, 28662, 30710, 512, 0],
    [1, 8939, 208, 29174, 29686, 512, 0],
    [1, 9147, 137, 29686, 30198, 512, 0],
    [1, 9284, 351, 30198, 31222, 512, 0],
    [2, 428, 1842, 30710, 31734, 512, 1],
    [2, 2270, 405, 31222, 32246, 512, 0],
    [2, 2675, 354, 31734, 32758, 512, 0],
    [2, 3029, 478, 32246, 34806, 512, 0],
    [2, 3507, 256, 32758, 33782, 512, 0],
    [2, 3763, 145, 33270, 33270, 512, 0],
    [2, 3908, 136, 33782, 34294, 512, 0],
    [2, 4044, 516, 34294, 36342, 512, 0],
    [2, 4560, 224, 34806, 35318, 512, 0],
    [2, 4784, 177, 35318, 35830, 512, 0],
    [2, 4961, 376, 35830, 36854, 512, 0],
    [2, 5337, 579, 36342, 38390, 512, 0],
    [2, 5916, 193, 36854, 37366, 512, 0],
    [2, 6109, 176, 37366, 37878, 512, 0],
    [2, 6285, 451, 37878, 39926, 512, 0],
    [2, 6736, 152, 38390, 38902, 512, 0],
    [2, 6888, 165, 38902, 39414, 512, 0],
    [2, 7053, 419, 39414, 40438, 512, 0],
    [2, 7472, 505, 39926, 41462, 512, 0],
    [2, 7977, 160, 40438, 40950, 512, 0],
    [2, 8137, 547, 40950, 42998, 512, 0],
    [2, 8684, 238, 41462, 41974, 512, 0],
    [2, 8922, 161, 41974, 42486, 512, 0],
    [2, 9083, 549, 42486, 45046, 512, 0],
    [2, 9632, 328, 42998, 44022, 512, 0],
    [2, 9960, 162, 43510, 43510, 512, 0],
    [2, 10122, 153, 44022, 44534, 512, 0],
    [2, 10275, 464, 44534, 46070, 512, 0],
    [2, 10739, 174, 45046, 45558, 512, 0],
    [2, 10913, 251, 45558, 46582, 512, 0],
    [3, 428, 1913, 46070, 47094, 512, 1],
    [3, 2341, 361, 46582, 47606, 512, 0],
    [3, 2702, 368, 47094, 48118, 512, 0],
    [3, 3070, 602, 47606, 50166, 512, 0],
    [3, 3672, 258, 48118, 49142, 512, 0],
    [3, 3930, 183, 48630, 48630, 512, 0],
    [3, 4113, 156, 49142, 49654, 512, 0],
    [3, 4269, 555, 49654, 51702, 512, 0],
    [3, 4824, 265, 50166, 50678, 512, 0],
    [3, 5089, 202, 50678, 51190, 512, 0],
    [3, 5291, 444, 51190, 52214, 512, 0],
    [3, 5735, 636, 51702, 53238, 512, 0],
    [3, 6371, 239, 52214, 52726, 512, 0],
    [3, 6610, 721, 52726, 55286, 512, 0],
    [3, 7331, 275, 53238, 54262, 512, 0],
    [3, 7606, 172, 53750, 53750, 512, 0],
    [3, 7778, 189, 54262, 54774, 512, 0],
    [3, 7967, 763, 54774, 57334, 512, 0],
    [3, 8730, 369, 55286, 56310, 512, 0],
    [3, 9099, 192, 55798, 55798, 512, 0],
    [3, 9291, 182, 56310, 56822, 512, 0],
    [3, 9473, 460, 56822, 57846, 512, 0],
    [3, 9933, 641, 57334, 59894, 512, 0],
    [3, 10574, 303, 57846, 58870, 512, 0],
    [3, 10877, 196, 58358, 58358, 512, 0],
    [3, 11073, 146, 58870, 59382, 512, 0],
    [3, 11219, 396, 59382, 60918, 512, 0],
    [3, 11615, 186, 59894, 60406, 512, 0],
    [3, 11801, 305, 60406, 61430, 512, 0],
    [3, 12106, 201, 60918, 61942, 512, 0],
];

/// `video/v1`: (segment, byte offset in the segment, size, dts, pts, duration (−1: N/A), key).
const V1: [[i64; 7]; 120] = [
    [0, 428, 2873, -10, 1014, 512, 1],
    [0, 3301, 888, 502, 3062, 512, 0],
    [0, 4189, 412, 1014, 2038, 512, 0],
    [0, 4601, 275, 1526, 1526, 512, 0],
    [0, 4876, 372, 2038, 2550, 512, 0],
    [0, 5248, 830, 2550, 5110, 512, 0],
    [0, 6078, 365, 3062, 4086, 512, 0],
    [0, 6443, 215, 3574, 3574, 512, 0],
    [0, 6658, 297, 4086, 4598, 512, 0],
    [0, 6955, 914, 4598, 7158, 512, 0],
    [0, 7869, 318, 5110, 6134, 512, 0],
    [0, 8187, 227, 5622, 5622, 512, 0],
    [0, 8414, 294, 6134, 6646, 512, 0],
    [0, 8708, 854, 6646, 7670, 512, 0],
    [0, 9562, 894, 7158, 9206, 512, 0],
    [0, 10456, 324, 7670, 8182, 512, 0],
    [0, 10780, 426, 8182, 8694, 512, 0],
    [0, 11206, 1020, 8694, 11254, 512, 0],
    [0, 12226, 467, 9206, 10230, 512, 0],
    [0, 12693, 313, 9718, 9718, 512, 0],
    [0, 13006, 480, 10230, 10742, 512, 0],
    [0, 13486, 1157, 10742, 13302, 512, 0],
    [0, 14643, 464, 11254, 12278, 512, 0],
    [0, 15107, 369, 11766, 11766, 512, 0],
    [0, 15476, 469, 12278, 12790, 512, 0],
    [0, 15945, 1232, 12790, 15350, 512, 0],
    [0, 17177, 370, 13302, 14326, 512, 0],
    [0, 17547, 310, 13814, 13814, 512, 0],
    [0, 17857, 485, 14326, 14838, 512, 0],
    [0, 18342, 911, 14838, 15862, 512, 0],
    [1, 428, 2994, 15350, 16374, 512, 1],
    [1, 3422, 1213, 15862, 18422, 512, 0],
    [1, 4635, 457, 16374, 17398, 512, 0],
    [1, 5092, 367, 16886, 16886, 512, 0],
    [1, 5459, 540, 17398, 17910, 512, 0],
    [1, 5999, 1018, 17910, 20470, 512, 0],
    [1, 7017, 525, 18422, 19446, 512, 0],
    [1, 7542, 353, 18934, 18934, 512, 0],
    [1, 7895, 534, 19446, 19958, 512, 0],
    [1, 8429, 1293, 19958, 22518, 512, 0],
    [1, 9722, 530, 20470, 21494, 512, 0],
    [1, 10252, 432, 20982, 20982, 512, 0],
    [1, 10684, 544, 21494, 22006, 512, 0],
    [1, 11228, 1222, 22006, 24566, 512, 0],
    [1, 12450, 651, 22518, 23542, 512, 0],
    [1, 13101, 442, 23030, 23030, 512, 0],
    [1, 13543, 602, 23542, 24054, 512, 0],
    [1, 14145, 1320, 24054, 26614, 512, 0],
    [1, 15465, 607, 24566, 25590, 512, 0],
    [1, 16072, 480, 25078, 25078, 512, 0],
    [1, 16552, 550, 25590, 26102, 512, 0],
    [1, 17102, 1330, 26102, 28662, 512, 0],
    [1, 18432, 560, 26614, 27638, 512, 0],
    [1, 18992, 420, 27126, 27126, 512, 0],
    [1, 19412, 660, 27638, 28150, 512, 0],
    [1, 20072, 1450, 28150, 30710, 512, 0],
    [1, 21522, 619, 28662, 29686, 512, 0],
    [1, 22141, 481, 29174, 29174, 512, 0],
    [1, 22622, 725, 29686, 30198, 512, 0],
    [1, 23347, 570, 30198, 31222, 512, 0],
    [2, 428, 3747, 30710, 31734, 512, 1],
    [2, 4175, 1370, 31222, 33782, 512, 0],
    [2, 5545, 547, 31734, 32758, 512, 0],
    [2, 6092, 484, 32246, 32246, 512, 0],
    [2, 6576, 669, 32758, 33270, 512, 0],
    [2, 7245, 1271, 33270, 35830, 512, 0],
    [2, 8516, 679, 33782, 34806, 512, 0],
    [2, 9195, 470, 34294, 34294, 512, 0],
    [2, 9665, 647, 34806, 35318, 512, 0],
    [2, 10312, 1370, 35318, 37878, 512, 0],
    [2, 11682, 544, 35830, 36854, 512, 0],
    [2, 12226, 504, 36342, 36342, 512, 0],
    [2, 12730, 652, 36854, 37366, 512, 0],
    [2, 13382, 1378, 37366, 39926, 512, 0],
    [2, 14760, 566, 37878, 38902, 512, 0],
    [2, 15326, 550, 38390, 38390, 512, 0],
    [2, 15876, 682, 38902, 39414, 512, 0],
    [2, 16558, 1460, 39414, 41974, 512, 0],
    [2, 18018, 568, 39926, 40950, 512, 0],
    [2, 18586, 399, 40438, 40438, 512, 0],
    [2, 18985, 648, 40950, 41462, 512, 0],
    [2, 19633, 1443, 41462, 44022, 512, 0],
    [2, 21076, 700, 41974, 42998, 512, 0],
    [2, 21776, 504, 42486, 42486, 512, 0],
    [2, 22280, 757, 42998, 43510, 512, 0],
    [2, 23037, 1371, 43510, 46070, 512, 0],
    [2, 24408, 617, 44022, 45046, 512, 0],
    [2, 25025, 423, 44534, 44534, 512, 0],
    [2, 25448, 683, 45046, 45558, 512, 0],
    [2, 26131, 647, 45558, 46582, 512, 0],
    [3, 428, 4045, 46070, 47094, 512, 1],
    [3, 4473, 1184, 46582, 49142, 512, 0],
    [3, 5657, 651, 47094, 48118, 512, 0],
    [3, 6308, 493, 47606, 47606, 512, 0],
    [3, 6801, 697, 48118, 48630, 512, 0],
    [3, 7498, 1314, 48630, 51190, 512, 0],
    [3, 8812, 699, 49142, 50166, 512, 0],
    [3, 9511, 522, 49654, 49654, 512, 0],
    [3, 10033, 679, 50166, 50678, 512, 0],
    [3, 10712, 1635, 50678, 53238, 512, 0],
    [3, 12347, 763, 51190, 52214, 512, 0],
    [3, 13110, 583, 51702, 51702, 512, 0],
    [3, 13693, 681, 52214, 52726, 512, 0],
    [3, 14374, 1560, 52726, 55286, 512, 0],
    [3, 15934, 744, 53238, 54262, 512, 0],
    [3, 16678, 526, 53750, 53750, 512, 0],
    [3, 17204, 731, 54262, 54774, 512, 0],
    [3, 17935, 1449, 54774, 57334, 512, 0],
    [3, 19384, 784, 55286, 56310, 512, 0],
    [3, 20168, 482, 55798, 55798, 512, 0],
    [3, 20650, 663, 56310, 56822, 512, 0],
    [3, 21313, 1333, 56822, 59382, 512, 0],
    [3, 22646, 710, 57334, 58358, 512, 0],
    [3, 23356, 545, 57846, 57846, 512, 0],
    [3, 23901, 750, 58358, 58870, 512, 0],
    [3, 24651, 824, 58870, 59894, 512, 0],
    [3, 25475, 1035, 59382, 60918, 512, 0],
    [3, 26510, 644, 59894, 60406, 512, 0],
    [3, 27154, 946, 60406, 61430, 512, 0],
    [3, 28100, 558, 60918, 61942, 512, 0],
];

/// `audio/a0`: (segment, byte offset in the segment, size, dts, pts, duration (−1: N/A), key).
const A0: [[i64; 7]; 187] = [
    [0, 372, 132, 0, 0, -1, 1],
    [0, 504, 224, 1024, 1024, 1024, 1],
    [0, 728, 118, 2048, 2048, 1024, 1],
    [0, 846, 121, 3072, 3072, 1024, 1],
    [0, 967, 122, 4096, 4096, 1024, 1],
    [0, 1089, 133, 5120, 5120, 1024, 1],
    [0, 1222, 135, 6144, 6144, 1024, 1],
    [0, 1357, 138, 7168, 7168, 1024, 1],
    [0, 1495, 159, 8192, 8192, 1024, 1],
    [0, 1654, 163, 9216, 9216, 1024, 1],
    [0, 1817, 157, 10240, 10240, 1024, 1],
    [0, 1974, 168, 11264, 11264, 1024, 1],
    [0, 2142, 145, 12288, 12288, 1024, 1],
    [0, 2287, 174, 13312, 13312, 1024, 1],
    [0, 2461, 168, 14336, 14336, 1024, 1],
    [0, 2629, 149, 15360, 15360, 1024, 1],
    [0, 2778, 173, 16384, 16384, 1024, 1],
    [0, 2951, 152, 17408, 17408, 1024, 1],
    [0, 3103, 192, 18432, 18432, 1024, 1],
    [0, 3295, 170, 19456, 19456, 1024, 1],
    [0, 3465, 144, 20480, 20480, 1024, 1],
    [0, 3609, 172, 21504, 21504, 1024, 1],
    [0, 3781, 162, 22528, 22528, 1024, 1],
    [0, 3943, 179, 23552, 23552, 1024, 1],
    [0, 4122, 180, 24576, 24576, 1024, 1],
    [0, 4302, 177, 25600, 25600, 1024, 1],
    [0, 4479, 174, 26624, 26624, 1024, 1],
    [0, 4653, 174, 27648, 27648, 1024, 1],
    [0, 4827, 169, 28672, 28672, 1024, 1],
    [0, 4996, 176, 29696, 29696, 1024, 1],
    [0, 5172, 191, 30720, 30720, 1024, 1],
    [0, 5363, 169, 31744, 31744, 1024, 1],
    [0, 5532, 187, 32768, 32768, 1024, 1],
    [0, 5719, 169, 33792, 33792, 1024, 1],
    [0, 5888, 166, 34816, 34816, 1024, 1],
    [0, 6054, 172, 35840, 35840, 1024, 1],
    [0, 6226, 186, 36864, 36864, 1024, 1],
    [0, 6412, 177, 37888, 37888, 1024, 1],
    [0, 6589, 196, 38912, 38912, 1024, 1],
    [0, 6785, 143, 39936, 39936, 1024, 1],
    [0, 6928, 197, 40960, 40960, 1024, 1],
    [0, 7125, 178, 41984, 41984, 1024, 1],
    [0, 7303, 182, 43008, 43008, 1024, 1],
    [0, 7485, 167, 44032, 44032, 1024, 1],
    [0, 7652, 154, 45056, 45056, 1024, 1],
    [0, 7806, 179, 46080, 46080, 1024, 1],
    [0, 7985, 162, 47104, 47104, 1024, 1],
    [1, 372, 172, 48128, 48128, 1024, 1],
    [1, 544, 180, 49152, 49152, 1024, 1],
    [1, 724, 176, 50176, 50176, 1024, 1],
    [1, 900, 155, 51200, 51200, 1024, 1],
    [1, 1055, 192, 52224, 52224, 1024, 1],
    [1, 1247, 166, 53248, 53248, 1024, 1],
    [1, 1413, 190, 54272, 54272, 1024, 1],
    [1, 1603, 172, 55296, 55296, 1024, 1],
    [1, 1775, 184, 56320, 56320, 1024, 1],
    [1, 1959, 145, 57344, 57344, 1024, 1],
    [1, 2104, 177, 58368, 58368, 1024, 1],
    [1, 2281, 182, 59392, 59392, 1024, 1],
    [1, 2463, 174, 60416, 60416, 1024, 1],
    [1, 2637, 177, 61440, 61440, 1024, 1],
    [1, 2814, 166, 62464, 62464, 1024, 1],
    [1, 2980, 179, 63488, 63488, 1024, 1],
    [1, 3159, 170, 64512, 64512, 1024, 1],
    [1, 3329, 156, 65536, 65536, 1024, 1],
    [1, 3485, 160, 66560, 66560, 1024, 1],
    [1, 3645, 183, 67584, 67584, 1024, 1],
    [1, 3828, 177, 68608, 68608, 1024, 1],
    [1, 4005, 163, 69632, 69632, 1024, 1],
    [1, 4168, 177, 70656, 70656, 1024, 1],
    [1, 4345, 165, 71680, 71680, 1024, 1],
    [1, 4510, 166, 72704, 72704, 1024, 1],
    [1, 4676, 159, 73728, 73728, 1024, 1],
    [1, 4835, 195, 74752, 74752, 1024, 1],
    [1, 5030, 175, 75776, 75776, 1024, 1],
    [1, 5205, 170, 76800, 76800, 1024, 1],
    [1, 5375, 174, 77824, 77824, 1024, 1],
    [1, 5549, 168, 78848, 78848, 1024, 1],
    [1, 5717, 173, 79872, 79872, 1024, 1],
    [1, 5890, 172, 80896, 80896, 1024, 1],
    [1, 6062, 171, 81920, 81920, 1024, 1],
    [1, 6233, 173, 82944, 82944, 1024, 1],
    [1, 6406, 173, 83968, 83968, 1024, 1],
    [1, 6579, 169, 84992, 84992, 1024, 1],
    [1, 6748, 167, 86016, 86016, 1024, 1],
    [1, 6915, 188, 87040, 87040, 1024, 1],
    [1, 7103, 162, 88064, 88064, 1024, 1],
    [1, 7265, 178, 89088, 89088, 1024, 1],
    [1, 7443, 164, 90112, 90112, 1024, 1],
    [1, 7607, 167, 91136, 91136, 1024, 1],
    [1, 7774, 180, 92160, 92160, 1024, 1],
    [1, 7954, 170, 93184, 93184, 1024, 1],
    [1, 8124, 160, 94208, 94208, 1024, 1],
    [1, 8284, 176, 95232, 95232, 1024, 1],
    [2, 372, 172, 96256, 96256, 1024, 1],
    [2, 544, 173, 97280, 97280, 1024, 1],
    [2, 717, 176, 98304, 98304, 1024, 1],
    [2, 893, 172, 99328, 99328, 1024, 1],
    [2, 1065, 165, 100352, 100352, 1024, 1],
    [2, 1230, 178, 101376, 101376, 1024, 1],
    [2, 1408, 163, 102400, 102400, 1024, 1],
    [2, 1571, 176, 103424, 103424, 1024, 1],
    [2, 1747, 167, 104448, 104448, 1024, 1],
    [2, 1914, 176, 105472, 105472, 1024, 1],
    [2, 2090, 167, 106496, 106496, 1024, 1],
    [2, 2257, 177, 107520, 107520, 1024, 1],
    [2, 2434, 161, 108544, 108544, 1024, 1],
    [2, 2595, 190, 109568, 109568, 1024, 1],
    [2, 2785, 167, 110592, 110592, 1024, 1],
    [2, 2952, 162, 111616, 111616, 1024, 1],
    [2, 3114, 169, 112640, 112640, 1024, 1],
    [2, 3283, 179, 113664, 113664, 1024, 1],
    [2, 3462, 169, 114688, 114688, 1024, 1],
    [2, 3631, 175, 115712, 115712, 1024, 1],
    [2, 3806, 166, 116736, 116736, 1024, 1],
    [2, 3972, 170, 117760, 117760, 1024, 1],
    [2, 4142, 175, 118784, 118784, 1024, 1],
    [2, 4317, 171, 119808, 119808, 1024, 1],
    [2, 4488, 177, 120832, 120832, 1024, 1],
    [2, 4665, 167, 121856, 121856, 1024, 1],
    [2, 4832, 172, 122880, 122880, 1024, 1],
    [2, 5004, 170, 123904, 123904, 1024, 1],
    [2, 5174, 175, 124928, 124928, 1024, 1],
    [2, 5349, 162, 125952, 125952, 1024, 1],
    [2, 5511, 172, 126976, 126976, 1024, 1],
    [2, 5683, 172, 128000, 128000, 1024, 1],
    [2, 5855, 167, 129024, 129024, 1024, 1],
    [2, 6022, 169, 130048, 130048, 1024, 1],
    [2, 6191, 174, 131072, 131072, 1024, 1],
    [2, 6365, 170, 132096, 132096, 1024, 1],
    [2, 6535, 172, 133120, 133120, 1024, 1],
    [2, 6707, 176, 134144, 134144, 1024, 1],
    [2, 6883, 172, 135168, 135168, 1024, 1],
    [2, 7055, 171, 136192, 136192, 1024, 1],
    [2, 7226, 171, 137216, 137216, 1024, 1],
    [2, 7397, 168, 138240, 138240, 1024, 1],
    [2, 7565, 170, 139264, 139264, 1024, 1],
    [2, 7735, 170, 140288, 140288, 1024, 1],
    [2, 7905, 178, 141312, 141312, 1024, 1],
    [2, 8083, 165, 142336, 142336, 1024, 1],
    [2, 8248, 178, 143360, 143360, 1024, 1],
    [3, 552, 165, 144384, 144384, 1024, 1],
    [3, 717, 170, 145408, 145408, 1024, 1],
    [3, 887, 167, 146432, 146432, 1024, 1],
    [3, 1054, 180, 147456, 147456, 1024, 1],
    [3, 1234, 163, 148480, 148480, 1024, 1],
    [3, 1397, 170, 149504, 149504, 1024, 1],
    [3, 1567, 171, 150528, 150528, 1024, 1],
    [3, 1738, 172, 151552, 151552, 1024, 1],
    [3, 1910, 178, 152576, 152576, 1024, 1],
    [3, 2088, 166, 153600, 153600, 1024, 1],
    [3, 2254, 178, 154624, 154624, 1024, 1],
    [3, 2432, 163, 155648, 155648, 1024, 1],
    [3, 2595, 173, 156672, 156672, 1024, 1],
    [3, 2768, 158, 157696, 157696, 1024, 1],
    [3, 2926, 181, 158720, 158720, 1024, 1],
    [3, 3107, 171, 159744, 159744, 1024, 1],
    [3, 3278, 170, 160768, 160768, 1024, 1],
    [3, 3448, 175, 161792, 161792, 1024, 1],
    [3, 3623, 170, 162816, 162816, 1024, 1],
    [3, 3793, 173, 163840, 163840, 1024, 1],
    [3, 3966, 166, 164864, 164864, 1024, 1],
    [3, 4132, 177, 165888, 165888, 1024, 1],
    [3, 4309, 176, 166912, 166912, 1024, 1],
    [3, 4485, 173, 167936, 167936, 1024, 1],
    [3, 4658, 166, 168960, 168960, 1024, 1],
    [3, 4824, 171, 169984, 169984, 1024, 1],
    [3, 4995, 166, 171008, 171008, 1024, 1],
    [3, 5161, 168, 172032, 172032, 1024, 1],
    [3, 5329, 173, 173056, 173056, 1024, 1],
    [3, 5502, 168, 174080, 174080, 1024, 1],
    [3, 5670, 173, 175104, 175104, 1024, 1],
    [3, 5843, 171, 176128, 176128, 1024, 1],
    [3, 6014, 170, 177152, 177152, 1024, 1],
    [3, 6184, 165, 178176, 178176, 1024, 1],
    [3, 6349, 180, 179200, 179200, 1024, 1],
    [3, 6529, 175, 180224, 180224, 1024, 1],
    [3, 6704, 169, 181248, 181248, 1024, 1],
    [3, 6873, 167, 182272, 182272, 1024, 1],
    [3, 7040, 176, 183296, 183296, 1024, 1],
    [3, 7216, 190, 184320, 184320, 1024, 1],
    [3, 7406, 167, 185344, 185344, 1024, 1],
    [3, 7573, 169, 186368, 186368, 1024, 1],
    [3, 7742, 166, 187392, 187392, 1024, 1],
    [3, 7908, 168, 188416, 188416, 1024, 1],
    [3, 8076, 249, 189440, 189440, 1024, 1],
    [3, 8325, 110, 190464, 190464, 1024, 1],
];
