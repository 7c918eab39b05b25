//! The correctness bar end to end: frames that we demux, decode and render (offscreen;
//! lavapipe here) from every rung of the test ladders match FFmpeg's own decode of the
//! same segments after the same YUV→RGB conversion — every rendered frame at
//! ≥ [`MIN_PSNR_DB`] and no channel of any pixel more than [`MAX_CHANNEL_DIFF`] code
//! value off — and a rendition switch mid-stream renders no corrupt frame. (The decode
//! is bit-exact, `video_decode.rs`; what remains is the shader's arithmetic and
//! sampling against the CPU reference's, a deterministic computation on lavapipe.)
//!
//! Ours: `streamsteer::container::demux` → [`Chunk`] timestamps → `Decoders::default()` →
//! `Renderer::offscreen` at the frame's native size → `read_rgba`.
//! Reference: the `ffmpeg` CLI decodes init + segment (concatenated, as a player sees
//! them) to raw `yuv420p`; each picture becomes a `VideoFrame` carrying the colour
//! space our decoder reported and goes through `reference::convert` (the CPU
//! conversion the shader is specified by). The decoder's colour space is itself checked
//! against what `ffprobe` reads from the stream.
//!
//! Per rung every 5th frame of segment 1 is rendered and compared (all frames are
//! decoded: the count must equal FFmpeg's); the rendition switch renders every frame
//! within 5 frames of the switch and every 5th elsewhere. Run with `--nocapture` for
//! the PSNR figures.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Instant;

use streamsteer::container::{InitSegment, TrackInfo, TrackType, demux};
use streamsteer_media::render::{RenderConfig, Renderer, RgbaImage, reference};
use streamsteer_media::video::{Decoders, Packet, VideoDecoder};
use streamsteer_media::{Chunk, ColourSpace, Matrix, PixelFormat, Plane, Range, VideoFrame};
use streamsteer_origin::content::{ContentInfo, ContentSpec, default_content_dir, ensure_content};

/// The bar for every rendered frame: RGB PSNR against FFmpeg's decode through the same
/// conversion (the README's figure; the lowest frame measured here is 52.77 dB, on two
/// separately made copies of the AV1 ladder: SVT-AV1's output differs run to run).
const MIN_PSNR_DB: f64 = 52.5;
/// No channel of any rendered pixel may differ from the reference by more than this
/// many code values (3 measured here): a corrupt block, which would hardly move a
/// whole frame's PSNR, shows here. (The difference is the 8-bit texture path's: the
/// same pictures widened to 10 bits render within 94 dB of the CPU reference,
/// `render.rs`.)
const MAX_CHANNEL_DIFF: u8 = 4;
/// Per rung, every `STEP`th frame is rendered and compared.
const STEP: usize = 5;
/// The segment each rung is checked on (not the first, so decoding does not start at
/// the very beginning of the stream).
const SEGMENT: usize = 1;

// ---------------------------------------------------------------------------------------
// Content

fn av1_content() -> &'static (PathBuf, ContentInfo) {
    static CONTENT: OnceLock<(PathBuf, ContentInfo)> = OnceLock::new();
    CONTENT.get_or_init(|| {
        let dir = default_content_dir();
        let info =
            ensure_content(&dir, &ContentSpec::default(), &mut |m| eprintln!("content: {m}"))
                .unwrap_or_else(|e| panic!("AV1 content in {}: {e}", dir.display()));
        (dir, info)
    })
}

/// The end-to-end tests' H.264 ladder: the same spec as `streamsteer_tests::e2e_content`
/// (copied, as that crate is not a dependency here), so both share one cached folder.
#[cfg(feature = "ffmpeg")]
fn h264_content() -> &'static (PathBuf, ContentInfo) {
    static CONTENT: OnceLock<(PathBuf, ContentInfo)> = OnceLock::new();
    CONTENT.get_or_init(|| {
        let spec = ContentSpec::e2e_h264();
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let dir = workspace.join("target").join("streamsteer-content").join(spec.tag());
        let info = ensure_content(&dir, &spec, &mut |m| eprintln!("content: {m}"))
            .unwrap_or_else(|e| panic!("H.264 content in {}: {e}", dir.display()));
        (dir, info)
    })
}

/// One rung's init and one of its media segments, read from the content folder.
struct Segment {
    label: String,
    init: Vec<u8>,
    data: Vec<u8>,
    /// Where the segment starts and how long it lasts on the media timeline (content.json).
    start_s: f64,
    duration_s: f64,
}

fn segment(content: &(PathBuf, ContentInfo), codec: &str, rung: usize, index: usize) -> Segment {
    let (dir, info) = content;
    let r = &info.video[rung];
    let seg = &r.segments[index];
    Segment {
        label: format!("{codec} rung {rung} ({}x{}) segment {index}", r.width, r.height),
        init: std::fs::read(dir.join(&r.init)).unwrap(),
        data: std::fs::read(dir.join(&seg.path)).unwrap(),
        start_s: seg.start_s,
        duration_s: seg.duration_s,
    }
}

// ---------------------------------------------------------------------------------------
// Our side: demux, decode, render

/// The segment's video samples as a pipeline [`Chunk`], whose timestamp mapping (edit
/// list included) the packets use.
fn chunk(segment: &Segment) -> Chunk {
    let init = InitSegment::parse(&segment.init).unwrap();
    let track = init.first_of(TrackType::Video).unwrap().clone();
    let samples = demux(&segment.data, &init).unwrap();
    let samples: Vec<_> = samples.into_iter().filter(|s| s.track_id == track.track_id).collect();
    assert!(!samples.is_empty(), "{}: no video samples", segment.label);
    Chunk::new(Arc::new(init), track.track_id, Arc::from(segment.data.as_slice()), samples, 0)
}

fn video_track(chunk: &Chunk) -> TrackInfo {
    chunk.track().unwrap().clone()
}

/// Sends every sample of `chunk`, then flushes: all frames, in presentation order.
fn decode(decoder: &mut dyn VideoDecoder, chunk: &Chunk) -> Vec<VideoFrame> {
    let mut frames = Vec::new();
    for sample in &chunk.samples {
        let packet = Packet {
            data: sample.data(&chunk.data).unwrap(),
            pts_us: chunk.pts_us(sample),
            dts_us: chunk.dts_us(sample),
            duration_us: i64::from(sample.duration) * 1_000_000 / i64::from(sample.timescale),
            keyframe: sample.is_sync(),
        };
        decoder.send(&packet).unwrap();
        while let Some(frame) = decoder.receive().unwrap() {
            frames.push(frame);
        }
    }
    decoder.flush().unwrap();
    while let Some(frame) = decoder.receive().unwrap() {
        frames.push(frame);
    }
    frames
}

/// One GPU call at a time (lavapipe shares the cores with the decoders anyway), and
/// `XDG_RUNTIME_DIR` set before this process makes its first wgpu call. Decoding and
/// the reference conversion run outside it, so the tests overlap there.
fn gpu_lock() -> MutexGuard<'static, ()> {
    static GPU: Mutex<()> = Mutex::new(());
    static RUNTIME_DIR: OnceLock<PathBuf> = OnceLock::new();
    let guard = GPU.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    RUNTIME_DIR.get_or_init(|| {
        // A private runtime dir keeps the Vulkan/EGL loaders from warning about the
        // missing one.
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir()
            .join(format!("streamsteer-decode-render-xdg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        // SAFETY: set under the GPU lock before any wgpu/Mesa code in this process runs;
        // std's other environment users (spawning ffmpeg) take std's own lock.
        unsafe { std::env::set_var("XDG_RUNTIME_DIR", &dir) };
        dir
    });
    guard
}

fn offscreen(width: u32, height: u32) -> Renderer {
    let _gpu = gpu_lock();
    Renderer::offscreen(RenderConfig::with_size(width, height)).unwrap()
}

/// Renders `frame` at its own size, resizing the output first when the size changed.
fn render_native(renderer: &mut Renderer, frame: &VideoFrame) -> RgbaImage {
    let _gpu = gpu_lock();
    if renderer.size() != (frame.width, frame.height) {
        renderer.resize(frame.width, frame.height).unwrap();
    }
    renderer.render(frame).unwrap();
    renderer.read_rgba().unwrap()
}

// ---------------------------------------------------------------------------------------
// FFmpeg's side

/// A temporary file removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn with(parts: &[&[u8]]) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir()
            .join(format!("streamsteer-decode-render-{}-{n}.mp4", std::process::id()));
        std::fs::write(&path, parts.concat()).unwrap();
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// FFmpeg's decode of one segment.
struct FfmpegDecode {
    /// Frames FFmpeg output, in presentation order.
    count: usize,
    /// The raw `yuv420p` bytes of the frames `keep` selected, by index.
    kept: Vec<(usize, Vec<u8>)>,
}

/// Decodes init + segment with the `ffmpeg` CLI to raw `yuv420p`, streaming, keeping
/// only the frames `keep` asks for (a 1080p segment is ~190 MB raw).
fn ffmpeg_decode(
    file: &Path,
    width: u32,
    height: u32,
    keep: impl Fn(usize) -> bool,
) -> FfmpegDecode {
    let mut child = Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-i"])
        .arg(file)
        .args(["-map", "0:v:0", "-fps_mode", "passthrough"])
        .args(["-f", "rawvideo", "-pix_fmt", "yuv420p", "-"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (w, h) = (width as usize, height as usize);
    let frame_bytes = w * h + 2 * w.div_ceil(2) * h.div_ceil(2);
    let mut stdout = child.stdout.take().unwrap();
    let (mut count, mut kept) = (0, Vec::new());
    let mut buf = vec![0u8; frame_bytes];
    loop {
        let mut filled = 0;
        while filled < frame_bytes {
            match stdout.read(&mut buf[filled..]).unwrap() {
                0 => break,
                n => filled += n,
            }
        }
        if filled == 0 {
            break;
        }
        assert_eq!(filled, frame_bytes, "ffmpeg output ends mid-frame");
        if keep(count) {
            kept.push((count, buf.clone()));
        }
        count += 1;
    }
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "ffmpeg: {}", String::from_utf8_lossy(&output.stderr));
    FfmpegDecode { count, kept }
}

/// What `ffprobe` reads from the stream: colour description and packet timestamps.
struct Probe {
    color_space: String,
    color_range: String,
    /// Packet presentation times, microseconds, sorted (presentation order).
    pts_us: Vec<i64>,
}

fn ffprobe(file: &Path) -> Probe {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-show_entries"])
        .args(["stream=color_space,color_range:packet=pts_time", "-of", "default=nw=1"])
        .arg(file)
        .output()
        .unwrap();
    assert!(out.status.success(), "ffprobe: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let mut probe =
        Probe { color_space: String::new(), color_range: String::new(), pts_us: vec![] };
    for line in text.lines() {
        if let Some(v) = line.strip_prefix("color_space=") {
            probe.color_space = v.to_owned();
        } else if let Some(v) = line.strip_prefix("color_range=") {
            probe.color_range = v.to_owned();
        } else if let Some(v) = line.strip_prefix("pts_time=") {
            probe.pts_us.push((v.parse::<f64>().unwrap() * 1e6).round() as i64);
        }
    }
    probe.pts_us.sort_unstable();
    probe
}

impl Probe {
    /// The colour space a player must use: what the stream says, and for what it
    /// leaves unspecified the players' usual guess (matrix from the picture height,
    /// limited range). Both ladders leave the matrix unspecified (ffprobe:
    /// `color_space=unknown`); the AV1 one codes limited range (`tv`), the H.264 one
    /// has no VUI colour description at all.
    fn expected_colour(&self, height: u32) -> ColourSpace {
        let guess = ColourSpace::for_height(height);
        let matrix = match self.color_space.as_str() {
            "bt709" => Matrix::Bt709,
            "bt470bg" | "smpte170m" => Matrix::Bt601,
            "bt2020nc" => Matrix::Bt2020,
            "unknown" | "" => guess.matrix,
            other => panic!("unexpected color_space {other}"),
        };
        let range = match self.color_range.as_str() {
            "tv" | "unknown" | "" => Range::Limited,
            "pc" => Range::Full,
            other => panic!("unexpected color_range {other}"),
        };
        ColourSpace { matrix, range }
    }
}

/// A raw `yuv420p` picture as a tightly packed I420 `VideoFrame` in `colour`.
fn i420_frame(raw: &[u8], width: u32, height: u32, colour: ColourSpace) -> VideoFrame {
    let (w, h) = (width as usize, height as usize);
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    let (y, rest) = raw.split_at(w * h);
    let (u, v) = rest.split_at(cw * ch);
    VideoFrame {
        width,
        height,
        format: PixelFormat::I420,
        bit_depth: 8,
        planes: vec![
            Plane { data: y.to_vec(), stride: w },
            Plane { data: u.to_vec(), stride: cw },
            Plane { data: v.to_vec(), stride: cw },
        ],
        colour,
        pts_us: 0,
        sample_aspect: (1, 1),
    }
}

// ---------------------------------------------------------------------------------------
// The check

/// PSNR figures of one segment.
struct Scores {
    frames: usize,
    compared: usize,
    min: f64,
    sum: f64,
    /// Largest difference of one channel of one pixel, code values.
    max_diff: u8,
}

impl Scores {
    fn mean(&self) -> f64 {
        self.sum / self.compared.max(1) as f64
    }
}

/// Decodes `segment` with `decoder`, renders the frames `keep` selects through
/// `renderer` and compares each with FFmpeg's decode converted by the reference.
fn decode_render_compare(
    segment: &Segment,
    decoder: &mut dyn VideoDecoder,
    renderer: &mut Renderer,
    keep: impl Fn(usize) -> bool + Sync,
) -> (Vec<VideoFrame>, Scores) {
    let label = &segment.label;
    let chunk = chunk(segment);
    let track = video_track(&chunk);
    let (width, height) = (track.width, track.height);
    let file = TempFile::with(&[&segment.init, &segment.data]);
    // FFmpeg decodes on the other core while we do.
    let (frames, probe, ffmpeg) = std::thread::scope(|s| {
        let theirs = s.spawn(|| (ffprobe(&file.0), ffmpeg_decode(&file.0, width, height, &keep)));
        let ours = decode(decoder, &chunk);
        let (probe, ffmpeg) = theirs.join().unwrap();
        (ours, probe, ffmpeg)
    });
    let first = frames.first().unwrap_or_else(|| panic!("{label}: no frames decoded"));
    assert_eq!((first.width, first.height), (width, height), "{label}: decoded size");
    let expected_colour = probe.expected_colour(height);
    assert_eq!(frames.len(), ffmpeg.count, "{label}: frame count vs ffmpeg");
    assert_eq!(frames.len(), probe.pts_us.len(), "{label}: frame count vs ffprobe's packets");

    // Presentation order and spacing as ffprobe has them (up to one offset and
    // rounding), so frame i is FFmpeg's frame i.
    for (i, frame) in frames.iter().enumerate() {
        assert!(frame.is_well_formed(), "{label}: frame {i} malformed");
        assert_eq!((frame.width, frame.height), (width, height), "{label}: frame {i} size");
        assert_eq!(frame.colour, expected_colour, "{label}: frame {i} colour vs ffprobe's");
        let ours = frame.pts_us - first.pts_us;
        let theirs = probe.pts_us[i] - probe.pts_us[0];
        assert!((ours - theirs).abs() <= 2, "{label}: frame {i} at +{ours} µs, ffprobe +{theirs}");
    }
    assert!(frames.windows(2).all(|w| w[0].pts_us < w[1].pts_us), "{label}: pts not increasing");
    // On the player's timeline the segment's frames lie where the manifest puts it.
    let (start, end) =
        ((segment.start_s * 1e6) as i64, ((segment.start_s + segment.duration_s) * 1e6) as i64);
    assert!(
        frames.iter().all(|f| (start..end).contains(&f.pts_us)),
        "{label}: pts {}..{} µs outside [{start}, {end})",
        first.pts_us,
        frames.last().unwrap().pts_us
    );

    let mut scores =
        Scores { frames: frames.len(), compared: 0, min: f64::INFINITY, sum: 0.0, max_diff: 0 };
    for (i, raw) in &ffmpeg.kept {
        let ours = render_native(renderer, &frames[*i]);
        let theirs = reference::convert(
            &i420_frame(raw, width, height, frames[*i].colour),
            &Default::default(),
        )
        .unwrap();
        let psnr = ours.psnr_rgb(&theirs).unwrap();
        let diff = max_channel_diff(&ours, &theirs);
        assert!(psnr >= MIN_PSNR_DB, "{label}: frame {i} renders at {psnr:.2} dB vs ffmpeg");
        assert!(
            diff <= MAX_CHANNEL_DIFF,
            "{label}: frame {i} has a channel {diff} code values off ffmpeg's"
        );
        scores.compared += 1;
        scores.min = scores.min.min(psnr);
        scores.max_diff = scores.max_diff.max(diff);
        // Identical frames count as 99 dB in the mean so that it stays finite.
        scores.sum += psnr.min(99.0);
    }
    assert!(scores.compared > 0, "{label}: nothing compared");
    (frames, scores)
}

/// The largest difference of one R, G or B value between two same-size images.
fn max_channel_diff(a: &RgbaImage, b: &RgbaImage) -> u8 {
    assert_eq!((a.width, a.height), (b.width, b.height));
    a.data
        .chunks_exact(4)
        .zip(b.data.chunks_exact(4))
        .flat_map(|(p, q)| (0..3).map(move |c| p[c].abs_diff(q[c])))
        .max()
        .unwrap_or(0)
}

fn report(label: &str, colour: ColourSpace, scores: &Scores) {
    eprintln!(
        "{label}: {:?} {:?}, {} frames decoded, {} rendered: PSNR min {:.2} dB, mean {:.2} dB, \
         largest channel difference {}",
        colour.matrix,
        colour.range,
        scores.frames,
        scores.compared,
        scores.min,
        scores.mean(),
        scores.max_diff
    );
}

/// Every rung: segment [`SEGMENT`] decoded with the default decoders, every
/// [`STEP`]th frame rendered at its own size and compared.
fn every_rung(content: &(PathBuf, ContentInfo), codec: &str, decoder_name: &str) {
    let started = Instant::now();
    let decoders = Decoders::default();
    let mut renderer: Option<Renderer> = None;
    for rung in 0..content.1.video.len() {
        let segment = segment(content, codec, rung, SEGMENT);
        let track = video_track(&chunk(&segment));
        let mut decoder = decoders.open(&track).unwrap();
        assert_eq!(decoder.name(), decoder_name, "{}", segment.label);
        let renderer = renderer.get_or_insert_with(|| offscreen(track.width, track.height));
        let (frames, scores) =
            decode_render_compare(&segment, decoder.as_mut(), renderer, |i| i.is_multiple_of(STEP));
        report(&segment.label, frames[0].colour, &scores);
    }
    eprintln!("{codec}: every rung in {:.1} s", started.elapsed().as_secs_f64());
}

/// Rung 0 segment 0, then the top rung's segment 1 through a new decoder (the old one
/// flushed), all through one renderer: every rendered frame matches FFmpeg and the
/// timeline runs on without a gap or a step back.
fn rendition_switch(content: &(PathBuf, ContentInfo), codec: &str) {
    let started = Instant::now();
    let top = content.1.video.len() - 1;
    let low = segment(content, codec, 0, 0);
    let high = segment(content, codec, top, 1);
    let decoders = Decoders::default();
    let low_track = video_track(&chunk(&low));
    let high_track = video_track(&chunk(&high));
    assert_ne!((low_track.width, low_track.height), (high_track.width, high_track.height));
    let mut renderer = offscreen(low_track.width, low_track.height);

    // The frames next to the switch all, the rest every STEPth.
    let low_count = chunk(&low).samples.len();
    let near_end = move |i: usize| i.is_multiple_of(STEP) || i + STEP >= low_count;
    let near_start = |i: usize| i.is_multiple_of(STEP) || i < STEP;

    let mut decoder = decoders.open(&low_track).unwrap();
    let (low_frames, low_scores) =
        decode_render_compare(&low, decoder.as_mut(), &mut renderer, near_end);
    // `decode` flushed it: nothing is left to come out after the switch.
    assert!(decoder.receive().unwrap().is_none(), "{codec}: frames left after the flush");
    drop(decoder);
    let allocations = renderer.allocations();

    let mut decoder = decoders.open(&high_track).unwrap();
    let (high_frames, high_scores) =
        decode_render_compare(&high, decoder.as_mut(), &mut renderer, near_start);
    assert!(
        renderer.allocations() > allocations,
        "{codec}: the renderer did not reallocate for {}x{}",
        high_track.width,
        high_track.height
    );
    report(&format!("{codec} switch, before: {}", low.label), low_frames[0].colour, &low_scores);
    report(&format!("{codec} switch, after: {}", high.label), high_frames[0].colour, &high_scores);

    let pts: Vec<i64> = low_frames.iter().chain(&high_frames).map(|f| f.pts_us).collect();
    assert!(pts.windows(2).all(|w| w[0] < w[1]), "{codec}: pts not strictly increasing: {pts:?}");
    // The high rung's first frame follows the low rung's last one by one frame
    // duration: nothing dropped or repeated at the switch.
    let low_step = low_frames[1].pts_us - low_frames[0].pts_us;
    let gap = high_frames[0].pts_us - low_frames.last().unwrap().pts_us;
    assert!(
        (gap - low_step).abs() <= 2,
        "{codec}: {gap} µs across the switch, frames {low_step} µs apart"
    );
    assert_eq!(
        renderer.frames_rendered() as usize,
        low_scores.compared + high_scores.compared,
        "{codec}: every rendered frame was compared"
    );
    eprintln!(
        "{codec} switch: {} + {} frames, {} rendered, in {:.1} s",
        low_frames.len(),
        high_frames.len(),
        renderer.frames_rendered(),
        started.elapsed().as_secs_f64()
    );
}

// ---------------------------------------------------------------------------------------
// Tests

#[test]
fn av1_every_rung_renders_like_ffmpegs_decode() {
    every_rung(av1_content(), "AV1", "rav1d");
}

#[test]
fn av1_rendition_switch_renders_no_corrupt_frame() {
    rendition_switch(av1_content(), "AV1");
}

#[cfg(feature = "ffmpeg")]
#[test]
fn h264_every_rung_renders_like_ffmpegs_decode() {
    every_rung(h264_content(), "H.264", "libavcodec h264");
}

#[cfg(feature = "ffmpeg")]
#[test]
fn h264_rendition_switch_renders_no_corrupt_frame() {
    rendition_switch(h264_content(), "H.264");
}
