//! AAC decode against FFmpeg on real ffmpeg-made CMAF: the committed fixture
//! (`tests/fixtures/cmaf`, audio `a0`) and the end-to-end content (40 s, 20 segments),
//! demuxed by `streamsteer::container::demux` and decoded by [`AacDecoder`], compared with
//! `ffmpeg -i <init + segments> -f f32le -acodec pcm_f32le -` of the same bytes.
//!
//! Alignment, measured rather than assumed: the `elst` of these init segments has
//! media_time 0 (ffmpeg's HLS muxer records no priming in the edit list), and FFmpeg
//! outputs every AAC frame whole, the first (priming) frame included and the last one
//! untrimmed (its `trun` duration is 496 ticks in the fixture, FFmpeg still gives 1024
//! samples). So FFmpeg's PCM starts at our first sample and has as many samples as
//! frames × 1024. The tests check that: the lag that best matches the two signals,
//! searched over ±2048 frames, must equal the edit list's media_time, and the sample
//! counts must agree once that many frames are dropped. The decoded sound must then
//! match FFmpeg's at ≥ [`MIN_SNR_DB`] SNR (the README's figure; 132.0 and 134.5 dB
//! measured here: both decoders are floating point and differ only in rounding).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;

use proptest::prelude::*;
use streamsteer::container::{DecoderConfig, InitSegment, TrackType, demux};
use streamsteer_media::audio::{AAC_FRAME_SAMPLES, AacDecoder, AudioError};
use streamsteer_origin::content::{ContentInfo, ContentSpec, ensure_content};

/// Signal-to-noise ratio of our PCM against FFmpeg's, over the whole rendition.
const MIN_SNR_DB: f64 = 130.0;

fn repo_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn fixture_dir() -> PathBuf {
    repo_dir().join("tests").join("fixtures").join("cmaf")
}

/// The end-to-end tests' ladder (the spec of `streamsteer_tests::e2e_content`), made
/// once per checkout by ffmpeg and reused from `target/streamsteer-content/`.
fn e2e_content_dir() -> PathBuf {
    let spec = ContentSpec::e2e_h264();
    let dir = repo_dir().join("target").join("streamsteer-content").join(spec.tag());
    ensure_content(&dir, &spec, &mut |m| eprintln!("content: {m}")).unwrap();
    dir
}

/// The audio rendition of a content folder: init bytes and each segment's bytes.
fn audio_rendition(dir: &Path) -> (Vec<u8>, Vec<Vec<u8>>) {
    let info = ContentInfo::load(dir).unwrap();
    let init = std::fs::read(dir.join(&info.audio.init)).unwrap();
    let segments =
        info.audio.segments.iter().map(|s| std::fs::read(dir.join(&s.path)).unwrap()).collect();
    (init, segments)
}

struct Decoded {
    pcm: Vec<f32>,
    channels: usize,
    frames: usize,
    edit_media_time: i64,
    decode_us: f64,
}

/// Our demuxer + decoder over every segment, in order.
fn decode_ours(init: &[u8], segments: &[Vec<u8>]) -> Decoded {
    let init_seg = InitSegment::parse(init).unwrap();
    let track = init_seg.first_of(TrackType::Audio).unwrap();
    assert_eq!(track.timescale, track.sample_rate, "audio timescale is the sample rate");
    let mut dec = AacDecoder::from_track(track).unwrap();
    assert_eq!(dec.sample_rate(), track.sample_rate);
    assert_eq!(u32::from(dec.channels()), track.channels);
    let channels = usize::from(dec.channels());
    let mut pcm = Vec::new();
    let mut frames = 0;
    let mut spent = std::time::Duration::ZERO;
    for segment in segments {
        let samples = demux(segment, &init_seg).unwrap();
        for sample in samples.iter().filter(|s| s.track_id == track.track_id) {
            let data = sample.data(segment).unwrap();
            let t0 = Instant::now();
            let out = dec.decode(data).unwrap();
            spent += t0.elapsed();
            assert_eq!(out.len(), AAC_FRAME_SAMPLES * channels);
            pcm.extend_from_slice(out);
            frames += 1;
        }
    }
    Decoded {
        pcm,
        channels,
        frames,
        edit_media_time: track.edit_media_time,
        decode_us: spent.as_secs_f64() * 1e6 / frames.max(1) as f64,
    }
}

/// FFmpeg's decode of init + segments, concatenated into a temporary file.
fn decode_ffmpeg(name: &str, init: &[u8], segments: &[Vec<u8>]) -> Vec<f32> {
    let dir = std::env::temp_dir().join(format!("streamsteer-audio-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("audio.mp4");
    let mut bytes = init.to_vec();
    for s in segments {
        bytes.extend_from_slice(s);
    }
    std::fs::write(&path, &bytes).unwrap();
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-i"])
        .arg(&path)
        .args(["-f", "f32le", "-acodec", "pcm_f32le", "-"])
        .output()
        .expect("ffmpeg must be installed for the decode comparison");
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(out.status.success(), "ffmpeg failed: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
}

/// The lag (in frames, ours relative to FFmpeg's) that minimises the squared error
/// on channel 0 over the first `window` frames, and the ratio of the second-best
/// lag's error to the best one's (how clear the match is).
fn best_lag(ours: &[f32], reference: &[f32], channels: usize, max_lag: usize) -> (i64, f64) {
    let window = 8192;
    let ch0 = |pcm: &[f32], i: usize| pcm[i * channels];
    let mut errors = Vec::new();
    for lag in -(max_lag as i64)..=max_lag as i64 {
        let mut err = 0.0f64;
        for i in max_lag..max_lag + window {
            let j = (i as i64 + lag) as usize;
            let d = f64::from(ch0(ours, j)) - f64::from(ch0(reference, i));
            err += d * d;
        }
        errors.push((err, lag));
    }
    errors.sort_by(|a, b| a.0.total_cmp(&b.0));
    (errors[0].1, errors[1].0 / errors[0].0.max(f64::MIN_POSITIVE))
}

/// Signal-to-noise ratio of `ours` against `reference`, dB.
fn snr_db(ours: &[f32], reference: &[f32]) -> f64 {
    let signal: f64 = reference.iter().map(|&x| f64::from(x) * f64::from(x)).sum();
    let noise: f64 =
        ours.iter().zip(reference).map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2)).sum();
    10.0 * (signal / noise.max(f64::MIN_POSITIVE)).log10()
}

fn compare_with_ffmpeg(name: &str, dir: &Path) {
    let (init, segments) = audio_rendition(dir);
    let ours = decode_ours(&init, &segments);
    let reference = decode_ffmpeg(name, &init, &segments);
    let ch = ours.channels;
    assert!(ours.frames > 0);

    // Where FFmpeg's output starts in ours: the edit list says, the signals confirm.
    let skip = usize::try_from(ours.edit_media_time).unwrap();
    let (lag, clarity) = best_lag(&ours.pcm, &reference, ch, 2048);
    assert_eq!(lag, skip as i64, "best-matching lag differs from the edit list");
    assert!(clarity > 1e3, "the match at lag {lag} is not clear: next best only {clarity:.1}x");

    let ours_pcm = &ours.pcm[skip * ch..];
    assert_eq!(
        ours_pcm.len(),
        reference.len(),
        "{name}: {} AAC frames: ours {} frames, FFmpeg {}",
        ours.frames,
        ours_pcm.len() / ch,
        reference.len() / ch
    );
    assert_eq!(ours.pcm.len(), ours.frames * AAC_FRAME_SAMPLES * ch);

    let snr = snr_db(ours_pcm, &reference);
    let peak = reference.iter().fold(0.0f32, |m, &x| m.max(x.abs()));
    eprintln!(
        "{name}: {} AAC frames, {} PCM frames × {ch} ch, lag {lag} (next best ×{clarity:.2e}), \
         peak {peak:.3}, SNR {snr:.1} dB, {:.1} µs per AAC frame",
        ours.frames,
        ours_pcm.len() / ch,
        ours.decode_us
    );
    assert!(peak > 0.01, "{name}: the reference is silent, the comparison would prove nothing");
    assert!(snr >= MIN_SNR_DB, "{name}: SNR {snr:.1} dB against FFmpeg");
}

#[test]
fn fixture_audio_matches_ffmpeg() {
    compare_with_ffmpeg("fixture", &fixture_dir());
}

#[test]
fn e2e_content_audio_matches_ffmpeg() {
    compare_with_ffmpeg("e2e", &e2e_content_dir());
}

#[test]
fn reset_restarts_like_a_fresh_decoder() {
    let (init, segments) = audio_rendition(&fixture_dir());
    let init_seg = InitSegment::parse(&init).unwrap();
    let track = init_seg.first_of(TrackType::Audio).unwrap();
    let seg = &segments[2];
    let frames: Vec<&[u8]> = demux(seg, &init_seg)
        .unwrap()
        .iter()
        .filter(|s| s.track_id == track.track_id)
        .map(|s| s.data(seg).unwrap())
        .collect();

    let mut fresh = AacDecoder::from_track(track).unwrap();
    let expected: Vec<Vec<f32>> =
        frames.iter().map(|f| fresh.decode(f).unwrap().to_vec()).collect();

    // Decode an unrelated segment first, reset, then the same frames: identical PCM,
    // so no overlap from before the reset leaks in.
    let mut dec = AacDecoder::from_track(track).unwrap();
    let other = &segments[0];
    for s in demux(other, &init_seg).unwrap().iter().filter(|s| s.track_id == track.track_id) {
        dec.decode(s.data(other).unwrap()).unwrap();
    }
    let before_reset = dec.decode(frames[0]).unwrap().to_vec();
    let without_reset = snr_db(&before_reset, &expected[0]);
    eprintln!("first frame without a reset: SNR {without_reset:.1} dB against a fresh decoder");
    assert!(
        without_reset < 40.0,
        "without a reset the overlap carries over ({without_reset:.1} dB)"
    );
    dec.reset();
    for (frame, want) in frames.iter().zip(&expected) {
        // Bit-exact, noise substitution included.
        assert_eq!(dec.decode(frame).unwrap(), want.as_slice());
    }
}

#[test]
fn configs_it_cannot_decode_are_typed_errors() {
    let (init, _) = audio_rendition(&fixture_dir());
    let init_seg = InitSegment::parse(&init).unwrap();
    let audio = init_seg.first_of(TrackType::Audio).unwrap();
    let DecoderConfig::Aac(lc) = &audio.config else { panic!("fixture audio is not AAC") };
    assert_eq!(lc.audio_object_type, 2);

    // HE-AAC: AudioSpecificConfig for object type 5 (SBR), 24 kHz core, stereo,
    // 48 kHz extension (ISO 14496-3 1.6.2.1): 00101 0110 0010 0011 00010 …
    let mut he = lc.clone();
    he.audio_object_type = 5;
    he.audio_specific_config = vec![0x2B, 0x11, 0x88, 0x00];
    match AacDecoder::new(&he) {
        Err(AudioError::Unsupported(why)) => assert!(why.contains("HE-AAC"), "{why}"),
        other => panic!("HE-AAC gave {other:?}"),
    }

    let mut six = lc.clone();
    six.channel_config = 6;
    assert!(matches!(AacDecoder::new(&six), Err(AudioError::Unsupported(_))));

    let mut empty = lc.clone();
    empty.audio_specific_config.clear();
    assert!(matches!(AacDecoder::new(&empty), Err(AudioError::BadConfig(_))));

    let video = init_seg_video();
    assert!(matches!(AacDecoder::from_track(&video), Err(AudioError::NotAac { .. })));
}

fn init_seg_video() -> streamsteer::container::TrackInfo {
    let init = std::fs::read(fixture_dir().join("video/v0/init.mp4")).unwrap();
    InitSegment::parse(&init).unwrap().first_of(TrackType::Video).unwrap().clone()
}

/// The fixture's AAC track and the real frames of its second segment, read once.
fn fixture_track_and_frames() -> &'static (streamsteer::container::TrackInfo, Vec<Vec<u8>>) {
    static FIXTURE: OnceLock<(streamsteer::container::TrackInfo, Vec<Vec<u8>>)> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let (init, segments) = audio_rendition(&fixture_dir());
        let init_seg = InitSegment::parse(&init).unwrap();
        let track = init_seg.first_of(TrackType::Audio).unwrap().clone();
        let seg = &segments[1];
        let frames = demux(seg, &init_seg)
            .unwrap()
            .iter()
            .filter(|s| s.track_id == track.track_id)
            .map(|s| s.data(seg).unwrap().to_vec())
            .collect();
        (track, frames)
    })
}

/// A fresh decoder for the fixture's track, and its frames.
fn fixture_decoder_and_frames() -> (AacDecoder, &'static [Vec<u8>]) {
    let (track, frames) = fixture_track_and_frames();
    (AacDecoder::from_track(track).unwrap(), frames)
}

#[test]
fn empty_and_truncated_frames_are_typed_errors() {
    let (mut dec, frames) = fixture_decoder_and_frames();
    assert_eq!(dec.decode(&[]), Err(AudioError::EmptyFrame));
    for frame in frames {
        // Cut to half or less, the bit reader runs out inside an element. (The last
        // byte alone can be a fill or end element: a 1-byte-short frame may decode.)
        for cut in [1, 2, frame.len() / 4, frame.len() / 2] {
            match dec.decode(&frame[..cut]) {
                Err(AudioError::Corrupt(_)) => {}
                Err(e) => panic!("a {cut}-byte cut of a {}-byte frame gave {e:?}", frame.len()),
                Ok(pcm) => panic!("a {cut}-byte cut decoded to {} samples", pcm.len()),
            }
        }
        // The decoder stays usable after a bad frame.
        assert_eq!(dec.decode(frame).unwrap().len(), AAC_FRAME_SAMPLES * 2);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn garbage_frames_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let (mut dec, frames) = fixture_decoder_and_frames();
        // Garbage in the middle of a real stream, with state from the frame before.
        dec.decode(&frames[0]).unwrap();
        match dec.decode(&bytes) {
            Ok(pcm) => prop_assert_eq!(pcm.len(), AAC_FRAME_SAMPLES * 2),
            Err(AudioError::Corrupt(_)) | Err(AudioError::EmptyFrame) => {}
            Err(e) => prop_assert!(false, "unexpected error kind {:?}", e),
        }
        prop_assert_eq!(dec.decode(&frames[1]).unwrap().len(), AAC_FRAME_SAMPLES * 2);
    }

    #[test]
    fn flipped_bits_in_real_frames_never_panic(
        index in 0usize..40,
        flips in proptest::collection::vec((any::<usize>(), 0u8..8), 1..16),
    ) {
        let (mut dec, frames) = fixture_decoder_and_frames();
        let mut frame = frames[index % frames.len()].clone();
        for (at, bit) in flips {
            let n = frame.len();
            frame[at % n] ^= 1 << bit;
        }
        let _ = dec.decode(&frame);
    }

    #[test]
    fn garbage_configs_never_panic(asc in proptest::collection::vec(any::<u8>(), 0..16)) {
        let DecoderConfig::Aac(mut config) = fixture_track_and_frames().0.config.clone()
        else { panic!("fixture audio is not AAC") };
        config.audio_specific_config = asc;
        if let Ok(mut dec) = AacDecoder::new(&config) {
            prop_assert!(dec.sample_rate() > 0 && (1..=2).contains(&dec.channels()));
            let _ = dec.decode(&[0x21, 0x10, 0x05, 0x00, 0xa0, 0x19]);
        }
    }
}
