//! Makes (or reuses) test content and prints where it is and what it holds.
//!
//! `cargo run -p streamsteer-origin --example make_content -- [h264|av1] [DIR]`: the
//! default spec with the given codec (default: the spec's own), in DIR (default:
//! `default_content_dir()` for the default spec, or a codec-tagged sibling).
//!
//! `… -- e2e-h264 [DIR]` and `… -- e2e-av1 [DIR]` make the test suite's ladders
//! (`ContentSpec::e2e_h264()`, `ContentSpec::e2e_av1_small()`); `… -- spec FILE [DIR]`
//! the `ContentSpec` in the JSON file FILE (e.g. `web/compare/pensieve-120s.json`).
//!
//! `… -- demo [DIR]` makes the demo's committed asset (`ContentSpec::demo_asset()`) in
//! DIR (default `origin/assets/demo`, where the repository keeps it).
use std::path::PathBuf;
use std::time::Instant;

use streamsteer_origin::content::{ContentSpec, VideoCodec, default_content_dir, ensure_content};

fn main() {
    let mut args = std::env::args().skip(1);
    let mut spec = ContentSpec::default();
    let mut dir_default = None;
    match args.next().as_deref() {
        Some("h264") => spec.video_codec = VideoCodec::H264,
        Some("av1") => spec.video_codec = VideoCodec::Av1,
        Some("e2e-h264") => spec = ContentSpec::e2e_h264(),
        Some("e2e-av1") => spec = ContentSpec::e2e_av1_small(),
        Some("spec") => {
            let Some(path) = args.next() else {
                eprintln!("`spec` wants a JSON file (a ContentSpec)");
                std::process::exit(2);
            };
            spec = match std::fs::read_to_string(&path)
                .map_err(|e| e.to_string())
                .and_then(|text| serde_json::from_str(&text).map_err(|e| e.to_string()))
            {
                Ok(spec) => spec,
                Err(e) => {
                    eprintln!("{path}: {e}");
                    std::process::exit(2);
                }
            };
        }
        Some("demo") => {
            spec = ContentSpec::demo_asset();
            dir_default = Some(streamsteer_origin::content::demo_asset_dir());
        }
        Some(other) => {
            eprintln!("unknown spec `{other}` (h264, av1, e2e-h264, e2e-av1, demo or spec FILE)");
            std::process::exit(2);
        }
        None => {}
    }
    let dir = args.next().map(PathBuf::from).or(dir_default).unwrap_or_else(|| {
        let default = default_content_dir();
        default.parent().map_or(default.clone(), |p| p.join(spec.tag()))
    });
    let started = Instant::now();
    match ensure_content(&dir, &spec, &mut |msg| eprintln!("{msg}")) {
        Ok(info) => {
            let bytes: u64 = info
                .video
                .iter()
                .flat_map(|v| &v.segments)
                .chain(&info.audio.segments)
                .map(|s| s.bytes)
                .sum();
            println!(
                "{} in {:.1} s, {:.1} MB of segments",
                dir.display(),
                started.elapsed().as_secs_f64(),
                bytes as f64 / 1e6
            );
            for v in &info.video {
                println!(
                    "{} {}x{} {} average {} kbit/s peak {} kbit/s",
                    v.id,
                    v.width,
                    v.height,
                    v.codecs,
                    v.average_bandwidth_bps / 1000,
                    v.bandwidth_bps / 1000
                );
            }
            println!(
                "{} {} {} kbit/s",
                info.audio.id,
                info.audio.codecs,
                info.audio.bandwidth_bps / 1000
            );
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
