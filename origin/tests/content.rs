//! Content folders: the committed fixture, broken copies of it, and real ffmpeg runs
//! of tiny specs (ffmpeg must be installed: these tests fail, not skip, without it).

use std::path::{Path, PathBuf};

use streamsteer_origin::content::{
    AudioSpec, ContentError, ContentInfo, ContentSpec, RungSpec, VideoCodec, ensure_content,
    ensure_content_with,
};

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/cmaf")
}

/// A fresh folder under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> TempDir {
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let path = std::env::temp_dir()
            .join(format!("streamsteer-content-{label}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn tiny_spec(codec: VideoCodec) -> ContentSpec {
    ContentSpec {
        duration_s: 4.0,
        segment_duration_s: 2.0,
        frame_rate: 30,
        video_codec: codec,
        rungs: vec![
            RungSpec { width: 160, height: 90, bitrate_kbps: 100 },
            RungSpec { width: 320, height: 180, bitrate_kbps: 300 },
        ],
        audio: AudioSpec { bitrate_kbps: 64, sample_rate: 48_000, channels: 2 },
        b_frames: true,
    }
}

/// The edit list's media time of a rendition's init segment, in frames at 30 fps.
fn edit_frames(dir: &Path, rendition: &str) -> f64 {
    let init = std::fs::read(dir.join(rendition).join("init.mp4")).unwrap();
    let init = streamsteer::container::fmp4::InitSegment::parse(&init).unwrap();
    let track = &init.tracks[0];
    track.edit_media_time as f64 * 30.0 / f64::from(track.timescale)
}

fn ensure(dir: &Path, spec: &ContentSpec) -> (ContentInfo, Vec<String>) {
    let mut messages = Vec::new();
    let info = ensure_content(dir, spec, &mut |m| messages.push(m.to_owned())).unwrap_or_else(|e| {
        panic!("making content failed (these tests need ffmpeg with libx264, libsvtav1 and aac): {e}")
    });
    (info, messages)
}

#[test]
fn the_fixture_loads_and_validates() {
    let info = ContentInfo::load(&fixture_dir()).unwrap();
    info.validate(&fixture_dir()).unwrap();
    assert_eq!(info.segment_count, 4);
    assert_eq!(info.video.len(), 2);
    assert_eq!((info.video[0].width, info.video[1].width), (160, 320));
    assert!(info.video[0].average_bandwidth_bps < info.video[1].average_bandwidth_bps);
    assert_eq!(info.audio.codecs, "mp4a.40.2");
    assert_eq!(info.spec, None);
}

#[test]
fn content_json_matches_the_files() {
    // Re-deriving the fixture's description with the fMP4 parser gives what is committed.
    let committed = ContentInfo::load(&fixture_dir()).unwrap();
    let derived = ContentInfo::describe(&fixture_dir(), 1.0, 30.0).unwrap();
    assert_eq!(derived, committed);
}

/// Damages a copy of the fixture in some way.
type Breaker = fn(&Path);

#[test]
fn validate_catches_broken_copies() {
    let cases: [(&str, Breaker); 5] = [
        ("a missing segment", |d| std::fs::remove_file(d.join("video/v1/seg_2.m4s")).unwrap()),
        ("a short segment", |d| {
            let path = d.join("audio/a0/seg_0.m4s");
            let data = std::fs::read(&path).unwrap();
            std::fs::write(&path, &data[..data.len() - 1]).unwrap();
        }),
        ("a missing init segment", |d| std::fs::remove_file(d.join("video/v0/init.mp4")).unwrap()),
        ("a rendition with fewer segments", |d| {
            edit_json(d, |j| {
                j["audio"]["segments"].as_array_mut().unwrap().pop();
            })
        }),
        ("a path escaping the folder", |d| {
            edit_json(d, |j| {
                j["video"][0]["init"] = "../cmaf/video/v0/init.mp4".into();
            })
        }),
    ];
    for (what, breaker) in cases {
        let tmp = TempDir::new("broken");
        copy_tree(&fixture_dir(), &tmp.0);
        ContentInfo::load(&tmp.0).unwrap().validate(&tmp.0).unwrap();
        breaker(&tmp.0);
        let err = ContentInfo::load(&tmp.0).unwrap().validate(&tmp.0).expect_err(what);
        assert!(matches!(err, ContentError::Invalid { .. }), "{what}: {err}");
    }

    let tmp = TempDir::new("nojson");
    assert!(matches!(ContentInfo::load(&tmp.0), Err(ContentError::Io { .. })));
    std::fs::write(tmp.0.join("content.json"), "{\"version\": 1").unwrap();
    let err = ContentInfo::load(&tmp.0).unwrap_err();
    assert!(matches!(err, ContentError::Json { .. }), "{err}");
}

fn edit_json(dir: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let path = dir.join("content.json");
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    edit(&mut json);
    std::fs::write(&path, serde_json::to_string_pretty(&json).unwrap()).unwrap();
}

fn check_generated(info: &ContentInfo, dir: &Path, spec: &ContentSpec, codec_prefix: &str) {
    info.validate(dir).unwrap();
    assert_eq!(&ContentInfo::load(dir).unwrap(), info);
    assert_eq!(info.spec.as_ref(), Some(spec));
    assert_eq!(info.segment_count, 2);
    assert_eq!(info.video.len(), 2);
    for (rung, want) in info.video.iter().zip(&spec.rungs) {
        assert_eq!((rung.width, rung.height), (want.width, want.height));
        assert!(rung.codecs.starts_with(codec_prefix), "{}", rung.codecs);
        // Closed 2 s GOPs: each segment is exactly 60 frames, starting on the grid.
        for (n, s) in rung.segments.iter().enumerate() {
            assert_eq!(s.start_s, 2.0 * n as f64, "{}", s.path);
            assert_eq!(s.duration_s, 2.0, "{}", s.path);
        }
        assert!(rung.bandwidth_bps >= rung.average_bandwidth_bps);
    }
    assert!(info.video[0].average_bandwidth_bps < info.video[1].average_bandwidth_bps);
    assert_eq!(info.audio.codecs, "mp4a.40.2");
    assert_eq!((info.audio.sample_rate, info.audio.channels), (48_000, 2));
    // Audio segments tile the timeline and end within one AAC frame of the video.
    let a = &info.audio.segments;
    assert_eq!(a[0].start_s, 0.0);
    assert!((a[0].start_s + a[0].duration_s - a[1].start_s).abs() < 1e-9);
    assert!((a[1].start_s + a[1].duration_s - 4.0).abs() < 0.05, "{a:?}");
    // No leftovers from the encode.
    assert!(!dir.join("video/v0/index.m3u8").exists());
    assert!(!dir.join("ffmpeg.log").exists());
}

#[test]
fn ensure_content_makes_a_tiny_h264_ladder_then_reuses_it() {
    let tmp = TempDir::new("h264");
    let dir = tmp.0.join("ladder");
    let spec = tiny_spec(VideoCodec::H264);
    let (info, _) = ensure(&dir, &spec);
    check_generated(&info, &dir, &spec, "avc1.64");
    // x264 with maxrate/bufsize keeps the real rates near the targets.
    for (rung, want) in info.video.iter().zip(&spec.rungs) {
        let ratio = rung.average_bandwidth_bps as f64 / (f64::from(want.bitrate_kbps) * 1000.0);
        assert!((0.6..=1.3).contains(&ratio), "{}: {ratio}", rung.id);
    }

    // Same spec: reused, nothing rewritten.
    let modified = std::fs::metadata(dir.join("content.json")).unwrap().modified().unwrap();
    let (again, messages) = ensure(&dir, &spec);
    assert_eq!(again, info);
    assert!(messages.iter().any(|m| m.starts_with("reusing")), "{messages:?}");
    assert_eq!(std::fs::metadata(dir.join("content.json")).unwrap().modified().unwrap(), modified);

    // A damaged folder is remade rather than trusted.
    std::fs::remove_file(dir.join("video/v1/seg_1.m4s")).unwrap();
    let (remade, messages) = ensure(&dir, &spec);
    assert!(!messages.iter().any(|m| m.starts_with("reusing")), "{messages:?}");
    remade.validate(&dir).unwrap();

    // No partial folders are left beside it.
    let leftovers: Vec<_> =
        std::fs::read_dir(&tmp.0).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers, vec![std::ffi::OsString::from("ladder")]);
}

#[test]
fn h264_without_b_frames_starts_at_the_manifests_time_with_no_edit_list_offset() {
    let tmp = TempDir::new("h264-no-b");
    let with = tmp.0.join("with");
    let without = tmp.0.join("without");
    let spec = tiny_spec(VideoCodec::H264);
    let flat = ContentSpec { b_frames: false, ..spec.clone() };
    // The default stays out of the JSON, so tags (and cached folders) made before the
    // field existed still match.
    assert!(!serde_json::to_string(&spec).unwrap().contains("b_frames"));
    assert_ne!(spec.tag(), flat.tag());
    ensure(&with, &spec);
    let (info, _) = ensure(&without, &flat);
    check_generated(&info, &without, &flat, "avc1.64");
    // x264's B-frames delay presentation by two frames, which the edit list takes back
    // (and which browsers' MSE ignores); without them there is nothing to take back.
    assert_eq!(edit_frames(&with, "video/v0"), 2.0);
    assert_eq!(edit_frames(&without, "video/v0"), 0.0);
}

#[test]
fn ensure_content_makes_a_tiny_av1_ladder() {
    let tmp = TempDir::new("av1");
    let dir = tmp.0.join("ladder");
    let spec = tiny_spec(VideoCodec::Av1);
    let (info, _) = ensure(&dir, &spec);
    check_generated(&info, &dir, &spec, "av01.0.");
}

#[test]
fn a_missing_ffmpeg_is_a_clear_error_and_leaves_nothing() {
    let tmp = TempDir::new("noffmpeg");
    let dir = tmp.0.join("ladder");
    let err = ensure_content_with(
        &dir,
        &tiny_spec(VideoCodec::H264),
        Path::new("/nonexistent/ffmpeg"),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(matches!(err, ContentError::FfmpegMissing { .. }), "{err}");
    assert!(err.to_string().contains("apt-get install ffmpeg"), "{err}");
    assert_eq!(std::fs::read_dir(&tmp.0).unwrap().count(), 0);
}

#[cfg(unix)]
#[test]
fn an_ffmpeg_failure_carries_the_command_and_stderr() {
    use std::os::unix::fs::PermissionsExt;
    // A stand-in ffmpeg that fails the way a build without an encoder does.
    let tmp = TempDir::new("ffmpegfails");
    let fake = tmp.0.join("fake-ffmpeg");
    std::fs::write(&fake, "#!/bin/sh\necho \"Unknown encoder 'libx264'\" >&2\nexit 1\n").unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let dir = tmp.0.join("ladder");
    let err =
        ensure_content_with(&dir, &tiny_spec(VideoCodec::H264), &fake, &mut |_| {}).unwrap_err();
    match &err {
        ContentError::Ffmpeg { command, stderr_tail, status } => {
            assert!(command.contains("-c:v libx264"), "{command}");
            assert_eq!(stderr_tail, "Unknown encoder 'libx264'");
            assert!(status.contains('1'), "{status}");
        }
        other => panic!("expected an ffmpeg failure, got {other}"),
    }
    assert!(err.to_string().contains("Unknown encoder"), "{err}");
    // Only the stand-in is left: the partial folder is gone and no ladder appeared.
    assert_eq!(std::fs::read_dir(&tmp.0).unwrap().count(), 1);
}

#[test]
fn bad_specs_are_refused_before_ffmpeg_runs() {
    let tmp = TempDir::new("badspec");
    for (what, edit) in [
        ("odd width", (|s: &mut ContentSpec| s.rungs[0].width = 161) as fn(&mut ContentSpec)),
        ("descending rungs", |s| s.rungs.reverse()),
        ("fractional segment count", |s| s.duration_s = 5.0),
        ("GOP not whole", |s| {
            s.frame_rate = 25;
            s.segment_duration_s = 0.5;
        }),
        ("no rungs", |s| s.rungs.clear()),
    ] {
        let mut spec = tiny_spec(VideoCodec::H264);
        edit(&mut spec);
        let err = ensure_content(&tmp.0.join("x"), &spec, &mut |_| {}).unwrap_err();
        assert!(matches!(err, ContentError::BadSpec(_)), "{what}: {err}");
    }
}

#[test]
fn the_default_spec_is_valid_and_tagged() {
    let spec = ContentSpec::default();
    spec.check().unwrap();
    assert_eq!(spec.segment_count(), 30);
    assert_eq!(spec.gop_frames(), 60);
    assert!(spec.tag().starts_with("av1-60s-2s-4r-"), "{}", spec.tag());
    assert_ne!(spec.tag(), tiny_spec(VideoCodec::Av1).tag());
    // The JSON form round-trips, and an empty object means the defaults.
    let back: ContentSpec = serde_json::from_str(&serde_json::to_string(&spec).unwrap()).unwrap();
    assert_eq!(back, spec);
    assert_eq!(serde_json::from_str::<ContentSpec>("{}").unwrap(), spec);
}

#[test]
fn the_committed_demo_asset_is_valid_and_loops_without_an_encoder() {
    use streamsteer_origin::content::{demo_asset_dir, loop_content};
    let src = demo_asset_dir();
    let info = ContentInfo::load(&src).unwrap();
    info.validate(&src).unwrap();
    assert_eq!(info.spec.as_ref(), Some(&ContentSpec::demo_asset()));
    assert_eq!(info.segment_count, 10);
    let bytes: u64 = info.video.iter().flat_map(|v| &v.segments).map(|s| s.bytes).sum::<u64>()
        + info.audio.segments.iter().map(|s| s.bytes).sum::<u64>();
    assert!(bytes < 8_000_000, "the committed asset grew to {bytes} bytes");

    let tmp = TempDir::new("loop");
    let dst = tmp.0.join("looped");
    // Looping rewrites decode times only: no encoder is involved.
    let looped = loop_content(&src, &dst, 3).unwrap();
    assert_eq!(looped.segment_count, 30);
    assert!((looped.duration_s - 3.0 * info.duration_s).abs() < 1e-6, "{}", looped.duration_s);
    for (v, orig) in looped.video.iter().zip(&info.video) {
        assert_eq!((v.width, v.height, &v.codecs), (orig.width, orig.height, &orig.codecs));
        for (k, s) in v.segments.iter().enumerate() {
            let o = &orig.segments[k % 10];
            let loop_start = (k / 10) as f64 * info.duration_s;
            assert!((s.start_s - (o.start_s + loop_start)).abs() < 1e-6, "{k}: {}", s.start_s);
            assert_eq!(s.bytes, o.bytes, "only decode times change");
        }
    }
    let a = &looped.audio.segments;
    assert!(a.windows(2).all(|w| w[1].start_s > w[0].start_s), "audio time moves on");
    looped.validate(&dst).unwrap();
    // Made once: a second call reuses the folder.
    let modified = std::fs::metadata(dst.join("content.json")).unwrap().modified().unwrap();
    let again = loop_content(&src, &dst, 3).unwrap();
    assert_eq!(again, looped);
    assert_eq!(std::fs::metadata(dst.join("content.json")).unwrap().modified().unwrap(), modified);
    assert!(loop_content(&src, &tmp.0.join("none"), 0).is_err());
}
