//! Helpers shared by the integration tests: where the shared data lives, and the
//! ffmpeg-made content the end-to-end tests play.

use std::path::PathBuf;

/// The `shared/` folder beside the checkout (`STREAMSTEER_SHARED` overrides).
pub fn shared_dir() -> PathBuf {
    if let Ok(p) = std::env::var("STREAMSTEER_SHARED") {
        return PathBuf::from(p);
    }
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    repo.join("..").join("shared")
}

/// The repository root.
pub fn repo_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The ladder the end-to-end tests play: 40 s of ffmpeg-made CMAF (H.264 + AAC), 2 s
/// segments, four rungs at the default ladder's bitrates but small pictures (quick to
/// encode). Made once per checkout under `target/streamsteer-content/` and reused;
/// ffmpeg must be installed (the test command installs it), else this panics with
/// the reason.
pub fn e2e_content() -> PathBuf {
    use std::sync::OnceLock;
    use streamsteer_origin::content::{ContentSpec, ensure_content};
    use streamsteer_origin::content_spec::{RungSpec, VideoCodec};
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let rung = |width, height, bitrate_kbps| RungSpec { width, height, bitrate_kbps };
        let spec = ContentSpec {
            duration_s: 40.0,
            segment_duration_s: 2.0,
            video_codec: VideoCodec::H264,
            rungs: vec![
                rung(320, 180, 400),
                rung(480, 270, 900),
                rung(640, 360, 1800),
                rung(854, 480, 3500),
            ],
            ..ContentSpec::default()
        };
        let dir = repo_dir().join("target").join("streamsteer-content").join(spec.tag());
        if let Err(e) = ensure_content(&dir, &spec, &mut |m| eprintln!("content: {m}")) {
            panic!("cannot make the end-to-end test content in {}: {e}", dir.display());
        }
        dir
    })
    .clone()
}

/// A small AV1 + AAC ladder for the media pipeline's end-to-end tests (3 rungs,
/// 256x144 to 640x360, 2 s segments, 40 s), made with ffmpeg on first use and cached
/// under target/streamsteer-content/. Small so that decoding and drawing in real time
/// leaves a loaded 2-core machine room: the pipeline's figures are about timing.
pub fn media_content() -> PathBuf {
    use std::sync::OnceLock;
    use streamsteer_origin::content::{ContentSpec, ensure_content};
    use streamsteer_origin::content_spec::{RungSpec, VideoCodec};
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let rung = |width, height, bitrate_kbps| RungSpec { width, height, bitrate_kbps };
        let spec = ContentSpec {
            duration_s: 40.0,
            segment_duration_s: 2.0,
            video_codec: VideoCodec::Av1,
            rungs: vec![rung(256, 144, 200), rung(426, 240, 500), rung(640, 360, 1000)],
            ..ContentSpec::default()
        };
        let dir = repo_dir().join("target").join("streamsteer-content").join(spec.tag());
        if let Err(e) = ensure_content(&dir, &spec, &mut |m| eprintln!("content: {m}")) {
            panic!("cannot make the media test content in {}: {e}", dir.display());
        }
        dir
    })
    .clone()
}
