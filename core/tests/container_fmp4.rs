//! The fMP4 timing parser against the committed ffmpeg fixture
//! (`tests/fixtures/cmaf`, whose README records the ffprobe values checked here),
//! against hand-built boxes for the layouts ffmpeg does not emit, and against
//! truncated, corrupted and random input.

use proptest::prelude::*;
use streamsteer::container::{Fmp4Error, FourCc, Fragment, InitSegment, TrackType};

fn fixture(rel: &str) -> Vec<u8> {
    let path = format!("{}/../tests/fixtures/cmaf/{rel}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading fixture {path}: {e}"))
}

fn segments(rendition: &str) -> Vec<Vec<u8>> {
    (0..4).map(|n| fixture(&format!("{rendition}/seg_{n}.m4s"))).collect()
}

/// Top-level boxes as (type, offset, size), read independently of the parser.
fn top_level(data: &[u8]) -> Vec<([u8; 4], usize, usize)> {
    let mut out = vec![];
    let mut pos = 0;
    while pos + 8 <= data.len() {
        let size = u32::from_be_bytes(data[pos..pos + 4].try_into().unwrap()) as usize;
        out.push((data[pos + 4..pos + 8].try_into().unwrap(), pos, size));
        pos += size;
    }
    out
}

/// Offset of the first occurrence of box type `kind` (its header start).
fn find_box(data: &[u8], kind: &[u8; 4]) -> usize {
    data.windows(4).position(|w| w == kind).expect("box present") - 4
}

#[test]
fn init_segments_describe_the_fixture_tracks() {
    for (rendition, w, h) in [("video/v0", 160, 90), ("video/v1", 320, 180)] {
        let init = InitSegment::parse(&fixture(&format!("{rendition}/init.mp4"))).unwrap();
        assert_eq!(init.tracks.len(), 1);
        let t = &init.tracks[0];
        assert_eq!(t.track_id, 1);
        assert_eq!(t.kind, TrackType::Video);
        assert_eq!(t.handler, *b"vide");
        assert_eq!(t.codec, *b"avc1");
        // ffprobe: time_base 1/15360; the encode asked for `-profile:v high` (0x64).
        assert_eq!(t.timescale, 15360);
        assert_eq!((t.width, t.height), (w, h));
        let codecs = t.codecs.as_deref().unwrap();
        assert!(codecs.starts_with("avc1.6400"), "{codecs}");
        // Two B-frames of reorder delay at 512 ticks a frame: the edit list skips 1024.
        assert_eq!(t.edit_media_time, 1024);
        assert_eq!((t.sample_rate, t.channels), (0, 0));
        assert_eq!(init.first_of(TrackType::Video), Some(t));
        assert_eq!(init.first_of(TrackType::Audio), None);
    }
    let init = InitSegment::parse(&fixture("audio/a0/init.mp4")).unwrap();
    let t = init.track(1).unwrap();
    assert_eq!(t.kind, TrackType::Audio);
    assert_eq!(t.codec, *b"mp4a");
    assert_eq!(t.codecs.as_deref(), Some("mp4a.40.2"));
    assert_eq!((t.timescale, t.sample_rate, t.channels), (48000, 48000, 2));
    assert_eq!((t.width, t.height), (0, 0));
}

#[test]
fn fragments_match_ffprobe_packet_counts_and_durations() {
    // (rendition, timescale, per-segment (tfdt, packets, Σ trun durations)) from the
    // fixture README's ffprobe and sidx values.
    let video = [(0, 30, 15360), (15360, 30, 15360), (30720, 30, 15360), (46080, 30, 15360)];
    let audio = [(0, 47, 48128), (48128, 47, 48128), (96256, 47, 48128), (144384, 46, 46576)];
    for (rendition, timescale, expected) in
        [("video/v0", 15360, video), ("video/v1", 15360, video), ("audio/a0", 48000, audio)]
    {
        let init = InitSegment::parse(&fixture(&format!("{rendition}/init.mp4"))).unwrap();
        for (seg, (tfdt, packets, ticks)) in segments(rendition).iter().zip(expected) {
            let f = Fragment::parse(seg, &init).unwrap();
            assert_eq!(f.tracks.len(), 1);
            let run = f.track(1).unwrap();
            assert_eq!(run.base_decode_time, tfdt, "{rendition}");
            assert_eq!(run.sample_count, packets, "{rendition}");
            assert_eq!(run.duration_ticks, ticks, "{rendition}");
            assert_eq!(run.timescale, timescale);
            assert_eq!(run.start_s(), tfdt as f64 / timescale as f64);
            assert_eq!(run.end_s(), run.start_s() + run.duration_s());
            assert_eq!(f.start_s(), Some(run.start_s()));
            assert_eq!(f.end_s(), Some(run.end_s()));
        }
    }
}

#[test]
fn consecutive_segments_tile_the_timeline() {
    for rendition in ["video/v0", "video/v1", "audio/a0"] {
        let init = InitSegment::parse(&fixture(&format!("{rendition}/init.mp4"))).unwrap();
        let runs: Vec<_> = segments(rendition)
            .iter()
            .map(|s| Fragment::parse(s, &init).unwrap().tracks[0].clone())
            .collect();
        for pair in runs.windows(2) {
            assert_eq!(pair[0].base_decode_time + pair[0].duration_ticks, pair[1].base_decode_time);
        }
    }
}

#[test]
fn several_moofs_in_one_buffer_are_summed_per_track() {
    // The four segments back to back: one buffer with four styp/sidx/moof/mdat groups.
    let init = InitSegment::parse(&fixture("audio/a0/init.mp4")).unwrap();
    let joined: Vec<u8> = segments("audio/a0").concat();
    let run = Fragment::parse(&joined, &init).unwrap().tracks[0].clone();
    assert_eq!(run.base_decode_time, 0);
    assert_eq!(run.sample_count, 47 + 47 + 47 + 46);
    assert_eq!(run.duration_ticks, 3 * 48128 + 46576);
}

#[test]
fn a_whole_file_parses_as_an_init_segment() {
    let mut whole = fixture("video/v1/init.mp4");
    for s in segments("video/v1") {
        whole.extend_from_slice(&s);
    }
    let init = InitSegment::parse(&whole).unwrap();
    assert_eq!(init, InitSegment::parse(&fixture("video/v1/init.mp4")).unwrap());
}

#[test]
fn every_truncation_of_a_segment_is_a_truncated_error_naming_the_cut_box() {
    let init = InitSegment::parse(&fixture("video/v0/init.mp4")).unwrap();
    let seg = fixture("video/v0/seg_0.m4s");
    let boxes = top_level(&seg);
    assert_eq!(
        boxes.iter().map(|b| &b.0).collect::<Vec<_>>(),
        [b"styp", b"sidx", b"moof", b"mdat"]
    );
    let moof_end = boxes[2].1 + boxes[2].2;
    for cut in 1..seg.len() {
        let result = Fragment::parse(&seg[..cut], &init);
        let at_boundary = boxes.iter().any(|&(_, off, _)| off == cut);
        match result {
            Ok(f) => {
                // Only a cut between boxes, after the moof, leaves a parseable segment.
                assert!(at_boundary && cut >= moof_end, "cut {cut} parsed");
                assert_eq!(f.tracks[0].sample_count, 30);
            }
            Err(Fmp4Error::MissingBox { box_type, .. }) => {
                assert!(at_boundary && cut < moof_end, "cut {cut}");
                assert_eq!(box_type, *b"moof");
            }
            Err(Fmp4Error::Truncated { box_type, offset, needed, available }) => {
                let (kind, off, size) = *boxes.iter().rev().find(|b| b.1 < cut).unwrap();
                if cut - off >= 8 {
                    assert_eq!(box_type, FourCc(kind), "cut {cut}");
                    assert_eq!(
                        (offset, needed, available),
                        (off as u64, size as u64, (cut - off) as u64)
                    );
                }
            }
            Err(e) => panic!("cut {cut}: unexpected {e}"),
        }
    }
}

#[test]
fn truncated_init_segments_are_errors() {
    let data = fixture("audio/a0/init.mp4");
    for cut in 0..data.len() {
        assert!(InitSegment::parse(&data[..cut]).is_err(), "cut {cut}");
    }
}

#[test]
fn corrupted_fields_give_typed_errors_with_offsets() {
    let init_bytes = fixture("video/v0/init.mp4");
    let init = InitSegment::parse(&init_bytes).unwrap();
    let seg = fixture("video/v0/seg_1.m4s");

    // A track ID the init segment does not declare.
    let mut bad = seg.clone();
    let tfhd = find_box(&bad, b"tfhd");
    bad[tfhd + 12..tfhd + 16].copy_from_slice(&99u32.to_be_bytes());
    assert_eq!(Fragment::parse(&bad, &init), Err(Fmp4Error::UnknownTrack(99)));

    // No tfdt: the fragment cannot be placed on the timeline.
    let mut bad = seg.clone();
    let tfdt = find_box(&bad, b"tfdt");
    bad[tfdt + 4..tfdt + 8].copy_from_slice(b"free");
    let traf = find_box(&bad, b"traf");
    assert_eq!(
        Fragment::parse(&bad, &init),
        Err(Fmp4Error::MissingBox {
            box_type: FourCc(*b"tfdt"),
            parent: FourCc(*b"traf"),
            offset: traf as u64
        })
    );

    // A box size smaller than its header.
    let mut bad = seg.clone();
    let moof = find_box(&bad, b"moof");
    bad[moof..moof + 4].copy_from_slice(&4u32.to_be_bytes());
    let err = Fragment::parse(&bad, &init).unwrap_err();
    assert!(
        matches!(&err, Fmp4Error::BadBox { box_type, offset, .. } if *box_type == *b"moof" && *offset == moof as u64)
    );
    assert!(err.to_string().contains(&format!("`moof` box at byte {moof}")), "{err}");

    // A trun claiming more samples than its bytes hold.
    let mut bad = seg.clone();
    let trun = find_box(&bad, b"trun");
    bad[trun + 12..trun + 16].copy_from_slice(&u32::MAX.to_be_bytes());
    let err = Fragment::parse(&bad, &init).unwrap_err();
    assert!(matches!(err, Fmp4Error::Truncated { box_type, .. } if box_type == *b"trun"), "{err}");

    // A zero track timescale.
    let mut bad = init_bytes.clone();
    let mdhd = find_box(&bad, b"mdhd");
    bad[mdhd + 20..mdhd + 24].copy_from_slice(&0u32.to_be_bytes());
    let err = InitSegment::parse(&bad).unwrap_err();
    assert!(matches!(err, Fmp4Error::BadBox { box_type, .. } if box_type == *b"mdhd"), "{err}");

    // No moov at all, and a media segment handed over as an init segment.
    let ftyp_only = &init_bytes[..top_level(&init_bytes)[0].2];
    assert!(
        matches!(InitSegment::parse(ftyp_only), Err(Fmp4Error::MissingBox { box_type, .. }) if box_type == *b"moov")
    );
    assert!(
        matches!(InitSegment::parse(&seg), Err(Fmp4Error::MissingBox { box_type, .. }) if box_type == *b"moov")
    );
    // And an init segment handed over as a media segment.
    assert!(
        matches!(Fragment::parse(&init_bytes, &init), Err(Fmp4Error::MissingBox { box_type, .. }) if box_type == *b"moof")
    );
}

// ---- hand-built boxes, for layouts ffmpeg does not produce ----

fn mp4_box(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(body);
    out
}

fn large_box(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = 1u32.to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(&((body.len() + 16) as u64).to_be_bytes());
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

/// An init segment with a 90 kHz video track 7 (trex default duration 3000) and a
/// 44.1 kHz audio track 8 (trex default 1024), built from the box layouts in ISO
/// 14496-12, with version-1 headers.
fn synthetic_init() -> Vec<u8> {
    let mvhd =
        full_box(b"mvhd", 1, 0, &[&[0u8; 16][..], &u32s(&[1000]), &[0u8; 8], &[0u8; 80]].concat());
    let trak = |id: u32, handler: &[u8; 4], timescale: u32, entry: Vec<u8>| {
        let tkhd = full_box(
            b"tkhd",
            1,
            7,
            &[
                &[0u8; 16][..],
                &u32s(&[id, 0]),
                &[0u8; 8],
                &[0u8; 8 + 8 + 36],
                &u32s(&[640 << 16, 360 << 16]),
            ]
            .concat(),
        );
        let mdhd = full_box(
            b"mdhd",
            1,
            0,
            &[&[0u8; 16][..], &u32s(&[timescale]), &[0u8; 8], &[0u8; 4]].concat(),
        );
        let hdlr = full_box(b"hdlr", 0, 0, &[&[0u8; 4][..], handler, &[0u8; 12], b"h\0"].concat());
        let stsd = full_box(b"stsd", 0, 0, &[&u32s(&[1])[..], &entry].concat());
        let stbl = mp4_box(b"stbl", &stsd);
        let minf = mp4_box(b"minf", &stbl);
        let mdia = mp4_box(b"mdia", &[mdhd, hdlr, minf].concat());
        mp4_box(b"trak", &[tkhd, mdia].concat())
    };
    // Visual sample entry: width/height 0 here, so the tkhd size is used.
    let av1c = mp4_box(b"av1C", &[0x81, 0x08, 0x0c, 0x00]);
    let av01 = mp4_box(b"av01", &[&[0u8; 78][..], &av1c].concat());
    // Audio sample entry, QuickTime version 1 (16 extra bytes), 2 channels, 44100 Hz.
    let mut mp4a_fields = vec![0u8; 8];
    mp4a_fields.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
    mp4a_fields.extend_from_slice(&[0, 2, 0, 16, 0, 0, 0, 0]);
    mp4a_fields.extend_from_slice(&(44100u32 << 16).to_be_bytes());
    mp4a_fields.extend_from_slice(&[0u8; 16]);
    let mp4a = mp4_box(b"mp4a", &mp4a_fields);
    let trex = |id: u32, dur: u32| full_box(b"trex", 0, 0, &u32s(&[id, 1, dur, 0, 0]));
    let mvex = mp4_box(b"mvex", &[trex(7, 3000), trex(8, 1024)].concat());
    let moov = mp4_box(
        b"moov",
        &[mvhd, trak(7, b"vide", 90000, av01), trak(8, b"soun", 44100, mp4a), mvex].concat(),
    );
    [mp4_box(b"ftyp", b"iso6\0\0\0\0"), moov].concat()
}

fn traf(
    track_id: u32,
    tfhd_flags: u32,
    tfhd_fields: &[u32],
    tfdt: Option<(u8, u64)>,
    truns: &[Vec<u8>],
) -> Vec<u8> {
    let mut body =
        full_box(b"tfhd", 0, tfhd_flags, &[&u32s(&[track_id])[..], &u32s(tfhd_fields)].concat());
    if let Some((version, t)) = tfdt {
        let field =
            if version == 1 { t.to_be_bytes().to_vec() } else { (t as u32).to_be_bytes().to_vec() };
        body.extend(full_box(b"tfdt", version, 0, &field));
    }
    for t in truns {
        body.extend_from_slice(t);
    }
    mp4_box(b"traf", &body)
}

fn trun(flags: u32, count: u32, prefix: &[u32], per_sample: &[u32]) -> Vec<u8> {
    full_box(b"trun", 0, flags, &[&u32s(&[count])[..], &u32s(prefix), &u32s(per_sample)].concat())
}

#[test]
fn synthetic_init_segment_with_v1_headers_av1_and_quicktime_audio() {
    let init = InitSegment::parse(&synthetic_init()).unwrap();
    let v = init.track(7).unwrap();
    assert_eq!((v.kind, v.timescale, v.width, v.height), (TrackType::Video, 90000, 640, 360));
    assert_eq!(v.codecs.as_deref(), Some("av01.0.08M.08"));
    assert_eq!(v.default_sample_duration, 3000);
    let a = init.track(8).unwrap();
    assert_eq!(
        (a.kind, a.sample_rate, a.channels, a.default_sample_duration),
        (TrackType::Audio, 44100, 2, 1024)
    );
    assert_eq!(a.codecs, None);
    assert_eq!(a.codecs_or_fourcc(), "mp4a");
}

#[test]
fn duration_defaults_box_sizes_and_skipped_boxes() {
    let init = InitSegment::parse(&synthetic_init()).unwrap();
    // moof 1: video with base-data-offset + default-sample-duration 1500 in tfhd and a
    // trun without durations; audio with sizes only, so trex's 1024 applies; tfdt v1.
    let moof1 = mp4_box(
        b"moof",
        &[
            full_box(b"mfhd", 0, 0, &u32s(&[1])),
            traf(
                7,
                0x01 | 0x08,
                &[0, 4096, 1500],
                Some((1, 10_000_000_000)),
                &[trun(0x205, 4, &[0, 0], &[10, 11, 12, 13])],
            ),
            traf(8, 0x02_0000, &[], Some((1, 441_000)), &[trun(0x200, 3, &[], &[5, 6, 7])]),
        ]
        .concat(),
    );
    // moof 2: video with no tfhd default (trex's 3000) and two truns, one with explicit
    // durations, sizes, flags and composition offsets; tfdt v0.
    let moof2 = mp4_box(
        b"moof",
        &[
            full_box(b"mfhd", 0, 0, &u32s(&[2])),
            traf(
                7,
                0x02 | 0x10 | 0x20,
                &[1, 100, 0],
                Some((0, 12345)),
                &[trun(0, 2, &[], &[]), trun(0xf01, 2, &[0], &[2000, 1, 2, 3, 2500, 4, 5, 6])],
            ),
        ]
        .concat(),
    );
    let segment = [
        mp4_box(b"styp", b"msdh\0\0\0\0"),
        full_box(b"sidx", 1, 0, &[0u8; 32]),
        full_box(b"emsg", 0, 0, b"urn:x\0\0\0\0\0"),
        full_box(b"prft", 1, 0, &[0u8; 20]),
        moof1,
        large_box(b"mdat", &[0u8; 33]),
        moof2,
        // Size 0: runs to the end of the file.
        [&0u32.to_be_bytes()[..], b"mdat", &[0u8; 17]].concat(),
    ]
    .concat();
    let f = Fragment::parse(&segment, &init).unwrap();
    assert_eq!(f.tracks.len(), 2);
    let v = f.track(7).unwrap();
    assert_eq!(v.base_decode_time, 10_000_000_000);
    assert_eq!(v.sample_count, 4 + 2 + 2);
    assert_eq!(v.duration_ticks, 4 * 1500 + 2 * 3000 + 2000 + 2500);
    let a = f.track(8).unwrap();
    assert_eq!((a.base_decode_time, a.sample_count, a.duration_ticks), (441_000, 3, 3 * 1024));
    assert_eq!(a.start_s(), 10.0);
    assert_eq!(f.start_s(), Some(10.0));
    assert_eq!(f.end_s(), Some(v.end_s()));
}

#[test]
fn sums_that_would_overflow_are_errors() {
    let init = InitSegment::parse(&synthetic_init()).unwrap();
    // Two truns of u32::MAX samples at u32::MAX ticks each (no per-sample fields, so
    // the count costs no bytes): the second pushes the sample count past 32 bits.
    let big = trun(0, u32::MAX, &[], &[]);
    let moof = mp4_box(b"moof", &traf(7, 0x08, &[u32::MAX], Some((1, 0)), &[big.clone(), big]));
    let err = Fragment::parse(&moof, &init).unwrap_err();
    assert!(matches!(&err, Fmp4Error::BadBox { box_type, .. } if *box_type == *b"trun"), "{err}");
}

// ---- never panic ----

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        let init = InitSegment::parse(&fixture("video/v0/init.mp4")).unwrap();
        let _ = InitSegment::parse(&data);
        let _ = Fragment::parse(&data, &init);
    }

    #[test]
    fn mutated_real_segments_never_panic(
        which in 0usize..3,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let rendition = ["video/v0", "video/v1", "audio/a0"][which];
        let init_bytes = fixture(&format!("{rendition}/init.mp4"));
        let init = InitSegment::parse(&init_bytes).unwrap();
        let mut seg = fixture(&format!("{rendition}/seg_2.m4s"));
        // Keep mutations in the headers, where they change the parse.
        let header_len = find_box(&seg, b"mdat") + 8;
        let mut mutated_init = init_bytes.clone();
        for (i, byte) in &edits {
            seg[i.index(header_len)] = *byte;
            let j = i.index(mutated_init.len());
            mutated_init[j] = *byte;
        }
        let _ = Fragment::parse(&seg, &init);
        let _ = Fragment::parse(&seg[..cut.index(seg.len())], &init);
        if let Ok(mutated) = InitSegment::parse(&mutated_init) {
            let _ = Fragment::parse(&seg, &mutated);
        }
    }
}
