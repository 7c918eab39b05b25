//! Video decoders against FFmpeg's own decode of the same segments: every rung of the
//! cached contents, a rendition switch, odd sizes and 10 bits, and bad data.
//!
//! The reference is the `ffmpeg` CLI decoding init + segment concatenated into one
//! file to raw I420 in presentation order (AV1 through libdav1d, H.264 and VP9 through
//! its own decoders); `ffprobe` gives its frame timestamps. The bar is bit-exactness:
//! every sample of every plane of every frame equals FFmpeg's. A mismatch fails with
//! the number of differing samples, the largest difference and the plane's PSNR.
//! Run with `--nocapture` to see the frame counts and decode timings.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use streamsteer::container::{FourCc, InitSegment, TrackInfo, TrackType, demux};
use streamsteer_media::video::{
    Av1Decoder, DecodeError, Decoders, Packet, VideoDecoder, VideoDecoderFactory,
};
use streamsteer_media::{PixelFormat, VideoFrame};
use streamsteer_origin::content::{ContentInfo, ContentSpec, default_content_dir, ensure_content};

// ---------------------------------------------------------------------------------
// Content

fn av1_content() -> (PathBuf, ContentInfo) {
    static CONTENT: OnceLock<(PathBuf, ContentInfo)> = OnceLock::new();
    CONTENT
        .get_or_init(|| {
            let dir = default_content_dir();
            let info =
                ensure_content(&dir, &ContentSpec::default(), &mut |m| eprintln!("content: {m}"))
                    .expect("default AV1 content");
            (dir, info)
        })
        .clone()
}

/// The end-to-end tests' H.264 ladder (the same spec as `streamsteer_tests::e2e_content`,
/// so both reuse one cached folder).
#[cfg(feature = "ffmpeg")]
fn h264_content() -> (PathBuf, ContentInfo) {
    let spec = ContentSpec::e2e_h264();
    static CONTENT: OnceLock<(PathBuf, ContentInfo)> = OnceLock::new();
    CONTENT
        .get_or_init(|| {
            let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace");
            let dir = workspace.join("target").join("streamsteer-content").join(spec.tag());
            let info = ensure_content(&dir, &spec, &mut |m| eprintln!("content: {m}"))
                .expect("H.264 content");
            (dir, info)
        })
        .clone()
}

/// Init and segment `index` of rung `rung`.
fn rung_segment(dir: &Path, info: &ContentInfo, rung: usize, index: usize) -> (Vec<u8>, Vec<u8>) {
    let rung = &info.video[rung];
    let init = std::fs::read(dir.join(&rung.init)).expect("init");
    let segment = std::fs::read(dir.join(&rung.segments[index].path)).expect("segment");
    (init, segment)
}

fn video_track(init: &[u8]) -> TrackInfo {
    InitSegment::parse(init)
        .expect("init parses")
        .first_of(TrackType::Video)
        .expect("video track")
        .clone()
}

// ---------------------------------------------------------------------------------
// Our decode

/// Decoded frames of `segment`, with the time spent in the decoder.
fn decode(
    decoder: &mut dyn VideoDecoder,
    init: &[u8],
    segment: &[u8],
) -> (Vec<VideoFrame>, Duration) {
    let parsed = InitSegment::parse(init).expect("init parses");
    let track = parsed.first_of(TrackType::Video).expect("video track");
    let samples = demux(segment, &parsed).expect("segment demuxes");
    let us = |ticks: i64| ticks * 1_000_000 / i64::from(track.timescale);
    let mut frames = Vec::new();
    let mut spent = Duration::ZERO;
    for sample in samples.iter().filter(|s| s.track_id == track.track_id) {
        let packet = Packet {
            data: sample.data(segment).expect("sample in segment"),
            pts_us: us(sample.composition_time - track.edit_media_time),
            dts_us: us(sample.decode_time as i64 - track.edit_media_time),
            duration_us: us(i64::from(sample.duration)),
            keyframe: sample.is_sync(),
        };
        let start = Instant::now();
        decoder.send(&packet).expect("send");
        while let Some(frame) = decoder.receive().expect("receive") {
            frames.push(frame);
        }
        spent += start.elapsed();
    }
    let start = Instant::now();
    decoder.flush().expect("flush");
    while let Some(frame) = decoder.receive().expect("receive after flush") {
        frames.push(frame);
    }
    spent += start.elapsed();
    (frames, spent)
}

// ---------------------------------------------------------------------------------
// FFmpeg's decode

static NEXT_TEMP: AtomicU64 = AtomicU64::new(0);

/// A temporary file removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn with(parts: &[&[u8]]) -> Self {
        let n = NEXT_TEMP.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("streamsteer-video-{}-{n}.mp4", std::process::id()));
        std::fs::write(&path, parts.concat()).expect("write temp file");
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// FFmpeg's frames of `file`, in presentation order, as packed planes.
struct Reference {
    frames: Vec<Vec<u8>>,
    /// Frame timestamps in microseconds (ffprobe's best-effort timestamps).
    pts_us: Vec<i64>,
}

fn ffmpeg_reference(file: &Path, width: u32, height: u32, ten_bit: bool) -> Reference {
    let pix_fmt = if ten_bit { "yuv420p10le" } else { "yuv420p" };
    let output = Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-i"])
        .arg(file)
        .args([
            "-map",
            "0:v:0",
            "-fps_mode",
            "passthrough",
            "-f",
            "rawvideo",
            "-pix_fmt",
            pix_fmt,
            "-",
        ])
        .output()
        .expect("run ffmpeg");
    assert!(output.status.success(), "ffmpeg failed: {}", String::from_utf8_lossy(&output.stderr));
    let bps = if ten_bit { 2 } else { 1 };
    let (w, h) = (width as usize, height as usize);
    let frame_bytes = (w * h + 2 * w.div_ceil(2) * h.div_ceil(2)) * bps;
    assert_eq!(output.stdout.len() % frame_bytes, 0, "ffmpeg output is not whole frames");
    let frames = output.stdout.chunks_exact(frame_bytes).map(<[u8]>::to_vec).collect();

    let probe = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-show_entries"])
        .args(["stream=time_base:frame=best_effort_timestamp", "-of", "default=noprint_wrappers=1"])
        .arg(file)
        .output()
        .expect("run ffprobe");
    assert!(probe.status.success(), "ffprobe failed: {}", String::from_utf8_lossy(&probe.stderr));
    let text = String::from_utf8(probe.stdout).expect("ffprobe output is text");
    let mut time_base = (1i64, 1i64);
    let mut ticks = Vec::new();
    for line in text.lines() {
        if let Some(tb) = line.strip_prefix("time_base=") {
            let (num, den) = tb.split_once('/').expect("time base is a fraction");
            time_base = (num.parse().expect("num"), den.parse().expect("den"));
        } else if let Some(t) = line.strip_prefix("best_effort_timestamp=") {
            ticks.push(t.parse::<i64>().expect("frame timestamp"));
        }
    }
    let pts_us = ticks.iter().map(|t| t * 1_000_000 * time_base.0 / time_base.1).collect();
    Reference { frames, pts_us }
}

// ---------------------------------------------------------------------------------
// Comparison

/// Where one plane of a frame differs from FFmpeg's.
#[derive(Debug)]
struct PlaneMismatch {
    plane: usize,
    /// Samples that differ, of `samples`.
    differing: usize,
    samples: usize,
    /// The first differing sample, (x, y) in the plane.
    first_at: (usize, usize),
    max_diff: u32,
    psnr_db: f64,
}

/// Compares every sample of every plane of `frame` with a packed reference frame:
/// `Ok(samples compared)` when all are identical, else the first plane that differs.
fn compare_planes(frame: &VideoFrame, reference: &[u8]) -> Result<usize, PlaneMismatch> {
    assert_eq!(frame.format, PixelFormat::I420, "reference frames are I420");
    let bps = frame.bytes_per_sample();
    let sample = |bytes: &[u8], i: usize| -> u32 {
        if bps == 1 {
            u32::from(bytes[i])
        } else {
            u32::from(u16::from_le_bytes([bytes[2 * i], bytes[2 * i + 1]]))
        }
    };
    let mut offset = 0;
    let mut compared = 0;
    for plane_index in 0..3 {
        let (w, h) = frame.plane_size(plane_index);
        let (w, h) = (w as usize, h as usize);
        let plane = &frame.planes[plane_index];
        let (mut differing, mut first_at, mut max_diff, mut sse) = (0, (0, 0), 0u32, 0u64);
        for row in 0..h {
            let ours = &plane.data[row * plane.stride..row * plane.stride + w * bps];
            let theirs = &reference[offset + row * w * bps..offset + (row + 1) * w * bps];
            if ours == theirs {
                continue;
            }
            for x in 0..w {
                let d = sample(ours, x).abs_diff(sample(theirs, x));
                if d != 0 {
                    if differing == 0 {
                        first_at = (x, row);
                    }
                    differing += 1;
                    max_diff = max_diff.max(d);
                    sse += u64::from(d).pow(2);
                }
            }
        }
        offset += w * h * bps;
        compared += w * h;
        if differing > 0 {
            let max = f64::from((1u32 << frame.bit_depth) - 1);
            let psnr_db = 10.0 * (max * max / (sse as f64 / (w * h) as f64)).log10();
            return Err(PlaneMismatch {
                plane: plane_index,
                differing,
                samples: w * h,
                first_at,
                max_diff,
                psnr_db,
            });
        }
    }
    assert_eq!(offset, reference.len(), "reference frame size");
    Ok(compared)
}

/// Checks `frames` against FFmpeg's decode of init + segment: the same number of
/// frames, the same presentation times, and every sample of every plane identical.
/// Returns the number of samples compared.
fn compare_with_ffmpeg(label: &str, frames: &[VideoFrame], init: &[u8], segment: &[u8]) -> usize {
    let first = frames.first().unwrap_or_else(|| panic!("{label}: no frames decoded"));
    let file = TempFile::with(&[init, segment]);
    let reference = ffmpeg_reference(&file.0, first.width, first.height, first.bit_depth > 8);
    assert_eq!(frames.len(), reference.frames.len(), "{label}: frame count vs ffmpeg");
    assert_eq!(frames.len(), reference.pts_us.len(), "{label}: frame count vs ffprobe");
    // Presentation order and spacing: the same timestamps up to one offset (ffprobe's
    // timeline starts where the edit list puts it) and microsecond rounding.
    let ours: Vec<i64> = frames.iter().map(|f| f.pts_us - first.pts_us).collect();
    let theirs: Vec<i64> = reference.pts_us.iter().map(|t| t - reference.pts_us[0]).collect();
    for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        assert!((a - b).abs() <= 2, "{label}: frame {i} at +{a} µs, ffprobe says +{b} µs");
    }
    assert!(ours.windows(2).all(|w| w[0] < w[1]), "{label}: frames not in presentation order");
    let mut compared = 0;
    for (i, (frame, expected)) in frames.iter().zip(&reference.frames).enumerate() {
        assert!(frame.is_well_formed(), "{label}: frame {i} malformed");
        assert_eq!(
            (frame.width, frame.height),
            (first.width, first.height),
            "{label}: frame {i} size"
        );
        match compare_planes(frame, expected) {
            Ok(samples) => compared += samples,
            Err(m) => panic!(
                "{label}: frame {i} is not bit-exact: plane {} has {} of {} samples differing \
                 (first at {:?}, largest difference {}, PSNR {:.2} dB)",
                m.plane, m.differing, m.samples, m.first_at, m.max_diff, m.psnr_db
            ),
        }
    }
    compared
}

/// The comparison itself: one sample one code value off, in any plane and at either
/// depth, is a mismatch located where it is; padding beyond the width is ignored.
#[test]
fn one_sample_off_is_not_bit_exact() {
    use streamsteer_media::{ColourSpace, Plane};
    for bit_depth in [8u8, 10] {
        let bps = if bit_depth > 8 { 2 } else { 1 };
        let (w, h) = (5usize, 3usize);
        let (cw, ch) = (3usize, 2usize);
        let packed: Vec<u8> =
            (0..(w * h + 2 * cw * ch) * bps).map(|i| (i * 7 % 251) as u8 & 0x7f).collect();
        let padded = |offset: usize, pw: usize, ph: usize| {
            let stride = pw * bps + 3;
            let mut data = Vec::new();
            for row in 0..ph {
                data.extend_from_slice(&packed[offset + row * pw * bps..][..pw * bps]);
                data.extend_from_slice(&[0xee; 3]);
            }
            Plane { data, stride }
        };
        let frame = VideoFrame {
            width: w as u32,
            height: h as u32,
            format: PixelFormat::I420,
            bit_depth,
            planes: vec![
                padded(0, w, h),
                padded(w * h * bps, cw, ch),
                padded((w * h + cw * ch) * bps, cw, ch),
            ],
            colour: ColourSpace::BT709_LIMITED,
            pts_us: 0,
            sample_aspect: (1, 1),
        };
        assert_eq!(compare_planes(&frame, &packed).expect("identical"), w * h + 2 * cw * ch);
        for (plane, x, y) in [(0usize, 4usize, 2usize), (2, 1, 1)] {
            let mut off = frame.clone();
            let p = &mut off.planes[plane];
            p.data[y * p.stride + x * bps] ^= 1;
            let m = compare_planes(&off, &packed).expect_err("one sample off");
            assert_eq!((m.plane, m.differing, m.first_at, m.max_diff), (plane, 1, (x, y), 1));
        }
    }
}

// ---------------------------------------------------------------------------------
// AV1

#[test]
fn av1_every_rung_matches_ffmpeg() {
    let (dir, info) = av1_content();
    every_rung_matches_ffmpeg(&dir, &info, "AV1", "rav1d", Some(8));
}

/// Segments 0 and 1 of every rung, each through a fresh decoder named `decoder_name`,
/// match FFmpeg's decode of the same bytes.
fn every_rung_matches_ffmpeg(
    dir: &Path,
    info: &ContentInfo,
    codec: &str,
    decoder_name: &str,
    bit_depth: Option<u8>,
) {
    let decoders = Decoders::default();
    for rung in 0..info.video.len() {
        for index in 0..2 {
            let (init, segment) = rung_segment(dir, info, rung, index);
            let track = video_track(&init);
            let mut decoder = decoders.open(&track).expect("the decoder opens");
            assert_eq!(decoder.name(), decoder_name);
            let (frames, spent) = decode(decoder.as_mut(), &init, &segment);
            let label =
                format!("{codec} rung {rung} ({}x{}) segment {index}", track.width, track.height);
            assert_eq!((frames[0].width, frames[0].height), (track.width, track.height), "{label}");
            if let Some(depth) = bit_depth {
                assert_eq!(frames[0].bit_depth, depth, "{label}");
            }
            let samples = compare_with_ffmpeg(&label, &frames, &init, &segment);
            eprintln!(
                "{label}: {} frames bit-exact ({samples} samples), {:.2} ms/frame decode",
                frames.len(),
                spent.as_secs_f64() * 1000.0 / frames.len() as f64
            );
        }
    }
}

#[test]
fn av1_rendition_switch_has_no_corrupt_frame() {
    let (dir, info) = av1_content();
    rendition_switch(&dir, &info, "AV1");
}

/// Rung 0 segment 0, then rung 2 segment 1 through a new decoder (new init) after
/// draining the first: every frame of both matches FFmpeg's decode of its segment.
fn rendition_switch(dir: &Path, info: &ContentInfo, label: &str) {
    let decoders = Decoders::default();
    let (init_a, seg_a) = rung_segment(dir, info, 0, 0);
    let (init_b, seg_b) = rung_segment(dir, info, 2, 1);
    let mut decoder = decoders.open(&video_track(&init_a)).expect("open rung 0");
    let (frames_a, _) = decode(decoder.as_mut(), &init_a, &seg_a);
    let mut decoder = decoders.open(&video_track(&init_b)).expect("open rung 2");
    let (frames_b, _) = decode(decoder.as_mut(), &init_b, &seg_b);
    compare_with_ffmpeg(&format!("{label} switch, rung 0 segment 0"), &frames_a, &init_a, &seg_a);
    compare_with_ffmpeg(&format!("{label} switch, rung 2 segment 1"), &frames_b, &init_b, &seg_b);
    let (end_a, start_b) = (frames_a.last().expect("frames").pts_us, frames_b[0].pts_us);
    assert!(end_a < start_b, "{label}: segment 1 starts after segment 0 ({end_a} vs {start_b} µs)");
}

/// Makes a short fragmented MP4 with ffmpeg's test source: `args` pick the encoder.
fn synthetic_clip(size: &str, args: &[&str]) -> Vec<u8> {
    let n = NEXT_TEMP.fetch_add(1, Ordering::Relaxed);
    let path =
        std::env::temp_dir().join(format!("streamsteer-video-{}-{n}-clip.mp4", std::process::id()));
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i"])
        .arg(format!("testsrc2=size={size}:rate=30:duration=1"))
        .args(args)
        .args(["-an", "-movflags", "+frag_keyframe+empty_moov+default_base_moof", "-f", "mp4"])
        .arg(&path)
        .status()
        .expect("run ffmpeg");
    assert!(status.success(), "ffmpeg could not make the clip");
    let bytes = std::fs::read(&path).expect("clip");
    let _ = std::fs::remove_file(&path);
    bytes
}

/// Decodes a whole fragmented file (moov and fragments in one buffer) and compares.
fn check_clip(label: &str, clip: &[u8], bit_depth: u8, size: (u32, u32)) {
    let track = video_track(clip);
    let mut decoder = Decoders::default().open(&track).expect("opens");
    let (frames, _) = decode(decoder.as_mut(), clip, clip);
    assert_eq!(frames.len(), 30, "{label}: frame count");
    assert_eq!((frames[0].width, frames[0].height), size, "{label}: visible size");
    assert_eq!(frames[0].bit_depth, bit_depth, "{label}: bit depth");
    // The clip is init and fragments already: no separate segment to append.
    let samples = compare_with_ffmpeg(label, &frames, clip, &[]);
    eprintln!("{label}: {} frames bit-exact ({samples} samples)", frames.len());
}

#[test]
fn av1_ten_bit_odd_size_matches_ffmpeg() {
    let clip = synthetic_clip(
        "250x142",
        &["-c:v", "libsvtav1", "-preset", "12", "-pix_fmt", "yuv420p10le", "-g", "15"],
    );
    check_clip("AV1 10-bit 250x142", &clip, 10, (250, 142));
}

// ---------------------------------------------------------------------------------
// H.264 (libavcodec)

#[cfg(feature = "ffmpeg")]
#[test]
fn h264_every_rung_matches_ffmpeg() {
    let (dir, info) = h264_content();
    // What the README calls this ladder: High profile, with B-frames (frames stored out
    // of presentation order), on every rung.
    for rung in 0..info.video.len() {
        let (init, segment) = rung_segment(&dir, &info, rung, 0);
        assert_eq!(avc_profile(&init), 100, "rung {rung}: H.264 High");
        assert!(has_reordered_frames(&init, &segment), "rung {rung}: no B-frames");
    }
    every_rung_matches_ffmpeg(&dir, &info, "H.264", "libavcodec h264", None);
}

/// `AVCProfileIndication` of the init segment's video track.
#[cfg(feature = "ffmpeg")]
fn avc_profile(init: &[u8]) -> u8 {
    match video_track(init).config {
        streamsteer::container::DecoderConfig::Avc(avc) => avc.profile,
        other => panic!("not H.264: {other:?}"),
    }
}

/// Whether some sample of `segment` is presented before one decoded ahead of it.
#[cfg(feature = "ffmpeg")]
fn has_reordered_frames(init: &[u8], segment: &[u8]) -> bool {
    let parsed = InitSegment::parse(init).expect("init parses");
    let track = parsed.first_of(TrackType::Video).expect("video track");
    let samples = demux(segment, &parsed).expect("segment demuxes");
    let video: Vec<_> = samples.iter().filter(|s| s.track_id == track.track_id).collect();
    video.windows(2).any(|w| w[1].composition_time < w[0].composition_time)
}

#[cfg(feature = "ffmpeg")]
#[test]
fn h264_rendition_switch_has_no_corrupt_frame() {
    let (dir, info) = h264_content();
    rendition_switch(&dir, &info, "H.264");
}

#[cfg(feature = "ffmpeg")]
#[test]
fn h264_ten_bit_cropped_matches_ffmpeg() {
    // 322x182 is not a multiple of 16: the SPS crops the coded 336x192 picture.
    let clip = synthetic_clip(
        "322x182",
        &[
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-pix_fmt",
            "yuv420p10le",
            "-bf",
            "2",
            "-g",
            "15",
        ],
    );
    assert_eq!(avc_profile(&clip), 110, "H.264 High 10");
    assert!(has_reordered_frames(&clip, &clip), "B-frames");
    check_clip("H.264 High 10 322x182", &clip, 10, (322, 182));
}

#[cfg(feature = "ffmpeg")]
#[test]
fn vp9_through_libavcodec_matches_ffmpeg() {
    let clip =
        synthetic_clip("320x180", &["-c:v", "libvpx-vp9", "-deadline", "realtime", "-g", "15"]);
    check_clip("VP9 320x180", &clip, 8, (320, 180));
}

// ---------------------------------------------------------------------------------
// Bad data and unknown codecs

fn first_keyframe(init: &[u8], segment: &[u8]) -> Vec<u8> {
    let parsed = InitSegment::parse(init).expect("init");
    let samples = demux(segment, &parsed).expect("demux");
    let sample = samples.iter().find(|s| s.is_sync()).expect("a keyframe");
    sample.data(segment).expect("data").to_vec()
}

/// Sends `data` as one packet, then drains: the first error, or the frames.
fn feed(decoder: &mut dyn VideoDecoder, data: &[u8]) -> Result<Vec<VideoFrame>, DecodeError> {
    let packet = Packet { data, pts_us: 0, dts_us: 0, duration_us: 33_333, keyframe: true };
    decoder.send(&packet)?;
    let mut frames = Vec::new();
    while let Some(frame) = decoder.receive()? {
        frames.push(frame);
    }
    decoder.flush()?;
    while let Some(frame) = decoder.receive()? {
        frames.push(frame);
    }
    Ok(frames)
}

#[test]
fn av1_bad_data_gives_typed_errors() {
    let (dir, info) = av1_content();
    let (init, segment) = rung_segment(&dir, &info, 0, 0);
    let track = video_track(&init);
    let keyframe = first_keyframe(&init, &segment);

    let truncated = &keyframe[..keyframe.len() / 2];
    let err = feed(&mut Av1Decoder::new(&track).expect("opens"), truncated)
        .expect_err("a truncated keyframe must not decode");
    assert!(matches!(err, DecodeError::Corrupt(_)), "truncated: {err:?}");

    // rav1d (like dav1d) skips OBUs it cannot use, so noise yields nothing or an
    // error, never a frame: before a sequence header and after one.
    let garbage = pseudo_random(4096);
    let mut decoder = Av1Decoder::new(&track).expect("opens");
    for round in ["before a keyframe", "after a keyframe"] {
        match feed(&mut decoder, &garbage) {
            Ok(frames) => assert!(frames.is_empty(), "noise {round}: {} frames", frames.len()),
            Err(e) => assert!(matches!(e, DecodeError::Corrupt(_)), "noise {round}: {e:?}"),
        }
        assert_eq!(feed(&mut decoder, &keyframe).expect("keyframe").len(), 1);
    }

    decoder.reset();
    let frames = feed(&mut decoder, &keyframe).expect("decodes after reset");
    assert_eq!(frames.len(), 1);
    assert_eq!((frames[0].width, frames[0].height), (track.width, track.height));

    let empty = feed(&mut Av1Decoder::new(&track).expect("opens"), &[]).expect_err("empty");
    assert!(matches!(err_kind(&empty), "corrupt"), "{empty:?}");
}

/// Deterministic noise (an LCG), different from any valid bitstream.
fn pseudo_random(len: usize) -> Vec<u8> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 56) as u8
        })
        .collect()
}

fn err_kind(e: &DecodeError) -> &'static str {
    match e {
        DecodeError::Unsupported(_) => "unsupported",
        DecodeError::Config(_) => "config",
        DecodeError::Corrupt(_) => "corrupt",
        DecodeError::Backend { .. } => "backend",
    }
}

#[test]
fn unknown_codecs_and_mismatched_configs_are_typed_errors() {
    let (dir, info) = av1_content();
    let (init, _) = rung_segment(&dir, &info, 0, 0);
    let av1 = video_track(&init);

    let mut unknown = av1.clone();
    unknown.codec = FourCc(*b"mp4v");
    unknown.codecs = Some("mp4v.20.9".into());
    match Decoders::default().open(&unknown) {
        Err(DecodeError::Unsupported(msg)) => assert!(msg.contains("mp4v.20.9"), "{msg}"),
        other => panic!("unknown codec: {:?}", other.map(|d| d.name().to_owned())),
    }

    // An av01 sample entry without its av1C record.
    let mut no_config = av1.clone();
    no_config.config = streamsteer::container::DecoderConfig::Unknown { fourcc: FourCc(*b"av01") };
    match Av1Decoder::new(&no_config) {
        Err(DecodeError::Config(msg)) => assert!(msg.contains("av1C"), "{msg}"),
        other => panic!("missing av1C: {other:?}"),
    }

    let mut h264 = av1.clone();
    h264.codec = FourCc(*b"avc1");
    h264.codecs = Some("avc1.64001f".into());
    h264.config = streamsteer::container::DecoderConfig::Unknown { fourcc: FourCc(*b"avc1") };
    let result = Decoders::default().open(&h264).map(|d| d.name().to_owned());
    if cfg!(feature = "ffmpeg") {
        match result {
            Err(DecodeError::Config(msg)) => assert!(msg.contains("avcC"), "{msg}"),
            other => panic!("H.264 without avcC: {other:?}"),
        }
    } else {
        match result {
            Err(DecodeError::Unsupported(msg)) => {
                assert!(msg.contains("avc1.64001f") && msg.contains("`ffmpeg` feature"), "{msg}");
            }
            other => panic!("H.264 without the ffmpeg feature: {other:?}"),
        }
    }
}

#[test]
fn platform_decoders_go_first() {
    struct Platform;
    impl VideoDecoderFactory for Platform {
        fn supports(&self, track: &TrackInfo) -> bool {
            track.codec == *b"av01"
        }
        fn open(&self, _: &TrackInfo) -> Result<Box<dyn VideoDecoder>, DecodeError> {
            Err(DecodeError::Backend { backend: "platform", message: "busy".into() })
        }
    }
    let (dir, info) = av1_content();
    let (init, _) = rung_segment(&dir, &info, 0, 0);
    let track = video_track(&init);
    let mut decoders = Decoders::default();
    assert_eq!(decoders.open(&track).expect("rav1d").name(), "rav1d");
    decoders.push_front(Box::new(Platform));
    match decoders.open(&track) {
        Err(DecodeError::Backend { backend: "platform", .. }) => {}
        other => panic!(
            "the platform factory should be asked first: {:?}",
            other.map(|d| d.name().to_owned())
        ),
    }
}

#[cfg(feature = "ffmpeg")]
#[test]
fn h264_bad_data_gives_typed_errors() {
    use streamsteer_media::video::LibavDecoder;
    let (dir, info) = h264_content();
    let (init, segment) = rung_segment(&dir, &info, 0, 0);
    let track = video_track(&init);
    let keyframe = first_keyframe(&init, &segment);

    // A length prefix promising more bytes than the sample has.
    let truncated = &keyframe[..keyframe.len() / 2];
    let result = feed(&mut LibavDecoder::new(&track).expect("opens"), truncated);
    match result {
        Err(e) => assert!(matches!(e, DecodeError::Corrupt(_)), "truncated: {e:?}"),
        // libavcodec conceals what it can of a cut slice; the frame must still be whole.
        Ok(frames) => assert!(frames.iter().all(VideoFrame::is_well_formed)),
    }

    let garbage = pseudo_random(4096);
    let err = feed(&mut LibavDecoder::new(&track).expect("opens"), &garbage)
        .expect_err("garbage must not decode");
    assert!(matches!(err, DecodeError::Corrupt(_)), "garbage: {err:?}");

    let mut decoder = LibavDecoder::new(&track).expect("opens");
    assert!(feed(&mut decoder, &garbage).is_err());
    decoder.reset();
    let frames = feed(&mut decoder, &keyframe).expect("decodes after reset");
    assert_eq!(frames.len(), 1);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Random bytes, alone or after a real keyframe: typed errors or frames, never a
    /// panic, and every frame well formed.
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 1..2048), after_keyframe in any::<bool>()) {
        let (dir, info) = av1_content();
        let (init, segment) = rung_segment(&dir, &info, 0, 0);
        #[cfg_attr(not(feature = "ffmpeg"), allow(unused_mut))]
        let mut tracks = vec![(video_track(&init), first_keyframe(&init, &segment))];
        #[cfg(feature = "ffmpeg")]
        {
            let (dir, info) = h264_content();
            let (init, segment) = rung_segment(&dir, &info, 0, 0);
            tracks.push((video_track(&init), first_keyframe(&init, &segment)));
        }
        for (track, keyframe) in &tracks {
            let mut decoder = Decoders::default().open(track).expect("opens");
            if after_keyframe {
                let _ = feed(decoder.as_mut(), keyframe);
            }
            if let Ok(frames) = feed(decoder.as_mut(), &bytes) {
                prop_assert!(frames.iter().all(VideoFrame::is_well_formed));
            }
        }
    }
}
