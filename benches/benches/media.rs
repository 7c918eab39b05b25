//! The media pipeline's frame rates: decode, render (wgpu, lavapipe on a machine
//! without a GPU) and decode + render of one 2 s segment (60 frames) at 720p and
//! 1080p of the default AV1 ladder, and (feature `ffmpeg`) the top rung of the
//! H.264 end-to-end content. Throughput is in frames, so criterion prints frames/s.
//!
//! Each decode iteration opens a fresh decoder and flushes it at the end of the
//! segment, as a rendition switch does: the decoder's start-up and its frame-thread
//! pipeline filling and draining are part of the figure.
//!
//! Outside the timed loops the bench checks that rendering reaches a steady state:
//! `Renderer::allocations()` must not change across the measured iterations.

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;
use streamsteer::container::{InitSegment, Sample, TrackInfo, TrackType, demux};
use streamsteer_media::VideoFrame;
use streamsteer_media::render::{RenderConfig, Renderer, RgbaImage};
use streamsteer_media::video::{Decoders, Packet, VideoDecoder};
use streamsteer_origin::content::{ContentInfo, ContentSpec, default_content_dir, ensure_content};

/// Which segment of a rung is decoded: the first, like a player's start-up.
const SEGMENT: usize = 0;

/// One segment of one rung, demuxed.
struct Clip {
    /// Benchmark group name ("av1_720p").
    name: String,
    track: TrackInfo,
    segment: Vec<u8>,
    samples: Vec<Sample>,
}

impl Clip {
    /// The video track's samples of segment [`SEGMENT`] of the rung closest in size
    /// to `width` × `height` in `dir`.
    fn load(dir: &Path, codec: &str, width: u32, height: u32) -> Clip {
        let info = ContentInfo::load(dir).expect("content.json");
        let rung = info
            .video
            .iter()
            .min_by_key(|r| r.width.abs_diff(width) + r.height.abs_diff(height))
            .expect("a video rung");
        if (rung.width, rung.height) != (width, height) {
            eprintln!(
                "media bench: no {width}x{height} rung in {}, using {}x{}",
                dir.display(),
                rung.width,
                rung.height
            );
        }
        let init_bytes = std::fs::read(dir.join(&rung.init)).expect("init segment");
        let init = InitSegment::parse(&init_bytes).expect("parse init segment");
        let track = init.first_of(TrackType::Video).expect("a video track").clone();
        let segment = std::fs::read(dir.join(&rung.segments[SEGMENT].path)).expect("media segment");
        let samples: Vec<Sample> = demux(&segment, &init)
            .expect("demux")
            .into_iter()
            .filter(|s| s.track_id == track.track_id)
            .collect();
        assert!(!samples.is_empty(), "no video samples in {}", rung.segments[SEGMENT].path);
        Clip { name: format!("{codec}_{}p", rung.height), track, segment, samples }
    }

    fn frames(&self) -> u64 {
        self.samples.len() as u64
    }
}

fn ticks_to_us(ticks: i64, timescale: u32) -> i64 {
    (i128::from(ticks) * 1_000_000 / i128::from(timescale)) as i64
}

/// Feeds the clip through `decoder`, handing each frame to `sink` as it comes out;
/// returns the frame count.
fn decode(clip: &Clip, decoder: &mut dyn VideoDecoder, sink: &mut dyn FnMut(VideoFrame)) -> u64 {
    let timescale = clip.track.timescale;
    let mut frames = 0;
    let mut drain = |decoder: &mut dyn VideoDecoder| {
        while let Some(frame) = decoder.receive().expect("receive") {
            frames += 1;
            sink(frame);
        }
    };
    for sample in &clip.samples {
        let packet = Packet {
            data: sample.data(&clip.segment).expect("sample inside the segment"),
            pts_us: ticks_to_us(sample.composition_time - clip.track.edit_media_time, timescale),
            dts_us: ticks_to_us(sample.decode_time as i64, timescale),
            duration_us: ticks_to_us(i64::from(sample.duration), timescale),
            keyframe: sample.is_sync(),
        };
        decoder.send(&packet).expect("send");
        drain(decoder);
    }
    decoder.flush().expect("flush");
    drain(decoder);
    frames
}

/// A fresh decoder through the whole clip.
fn decode_fresh(decoders: &Decoders, clip: &Clip, sink: &mut dyn FnMut(VideoFrame)) -> u64 {
    let mut decoder = decoders.open(&clip.track).expect("open decoder");
    decode(clip, decoder.as_mut(), sink)
}

fn bench_clip(c: &mut Criterion, decoders: &Decoders, clip: &Clip) {
    // Setup, untimed: every frame decoded once, checked, and kept for the render bench.
    let mut frames = Vec::new();
    let decoded = decode_fresh(decoders, clip, &mut |f| frames.push(f));
    assert_eq!(decoded, clip.frames(), "{}: every sample gives a frame", clip.name);
    let (width, height) = (frames[0].width, frames[0].height);
    assert!(frames.iter().all(|f| f.is_well_formed()), "{}: malformed frame", clip.name);

    let mut renderer =
        Renderer::offscreen(RenderConfig::with_size(width, height)).expect("offscreen renderer");
    let mut image = RgbaImage { width: 0, height: 0, data: Vec::new() };
    // One pass before measuring creates the plane textures and the readback buffer.
    for frame in &frames {
        renderer.render(frame).expect("render");
    }
    renderer.read_rgba_into(&mut image).expect("readback");
    assert_eq!((image.width, image.height), (width, height));
    let steady = renderer.allocations();

    let mut group = c.benchmark_group(&clip.name);
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(4));
    group.throughput(Throughput::Elements(clip.frames()));

    group.bench_function("decode", |b| {
        b.iter(|| decode_fresh(decoders, clip, &mut |f| drop(black_box(f))))
    });
    group.bench_function("render", |b| {
        b.iter(|| {
            for frame in &frames {
                renderer.render(frame).expect("render");
            }
            // The readback waits for the GPU, so its work is inside the timing.
            renderer.read_rgba_into(&mut image).expect("readback");
            black_box(&image);
        })
    });
    group.bench_function("decode_render", |b| {
        b.iter(|| {
            decode_fresh(decoders, clip, &mut |f| renderer.render(&f).expect("render"));
            renderer.read_rgba_into(&mut image).expect("readback");
            black_box(&image);
        })
    });
    group.finish();

    let after = renderer.allocations();
    eprintln!(
        "{}: {width}x{height}, renderer allocations {steady} after the first pass, {after} \
         after {} frames",
        clip.name,
        renderer.frames_rendered()
    );
    assert_eq!(after, steady, "{}: GPU resources reallocated in steady state", clip.name);
}

fn av1(c: &mut Criterion) {
    let dir = default_content_dir();
    ensure_content(&dir, &ContentSpec::default(), &mut |m| eprintln!("content: {m}"))
        .expect("default content");
    let decoders = Decoders::default();
    for (width, height) in [(1280, 720), (1920, 1080)] {
        bench_clip(c, &decoders, &Clip::load(&dir, "av1", width, height));
    }
}

/// The H.264 end-to-end content (as `streamsteer_tests::e2e_content()` makes it):
/// High profile with B-frames, so the decoder reorders.
#[cfg(feature = "ffmpeg")]
fn h264(c: &mut Criterion) {
    let spec = ContentSpec::e2e_h264();
    let dir = default_content_dir().with_file_name(spec.tag());
    ensure_content(&dir, &spec, &mut |m| eprintln!("content: {m}")).expect("H.264 content");
    bench_clip(c, &Decoders::default(), &Clip::load(&dir, "h264", 854, 480));
}

#[cfg(not(feature = "ffmpeg"))]
criterion_group!(benches, av1);
#[cfg(feature = "ffmpeg")]
criterion_group!(benches, av1, h264);
criterion_main!(benches);
