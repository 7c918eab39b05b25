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
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| cached_content(streamsteer_origin::content::ContentSpec::e2e_h264())).clone()
}

/// A small AV1 + AAC ladder for the media pipeline's end-to-end tests (3 rungs,
/// 256x144 to 640x360, 2 s segments, 40 s), made with ffmpeg on first use and cached
/// under target/streamsteer-content/. Small so that decoding and drawing in real time
/// leaves a loaded 2-core machine room: the pipeline's figures are about timing.
pub fn media_content() -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| cached_content(streamsteer_origin::content::ContentSpec::e2e_av1_small()))
        .clone()
}

/// The content of `spec` under target/streamsteer-content/, made on first use.
fn cached_content(spec: streamsteer_origin::content::ContentSpec) -> PathBuf {
    use streamsteer_origin::content::ensure_content;
    let dir = repo_dir().join("target").join("streamsteer-content").join(spec.tag());
    if let Err(e) = ensure_content(&dir, &spec, &mut |m| eprintln!("content: {m}")) {
        panic!("cannot make the test content in {}: {e}", dir.display());
    }
    dir
}

/// Plays `engine` (the `streamsteer` model with a content's presentation) once with
/// the default rule on a fast link (four times the ladder's top rung, looped as
/// needed), failing the test on any failed session; deterministic, so the outcome is
/// also checked against a second run.
pub fn simulate_on_a_fast_link(
    ladder: &streamsteer::Ladder,
    engine: &streamsteer_sim::engine::ConfiguredEngine,
) -> streamsteer_sim::model::SessionOutcome {
    use streamsteer_sim::batch::Batch;
    use streamsteer_sim::model::{ModelKind, SimConfig};
    use streamsteer_sim::trace::{Period, Trace, TraceData};
    let top = ladder.bitrates_kbps().iter().copied().fold(0.0, f64::max);
    let fast = Trace {
        name: "fast".into(),
        data: TraceData::Periods(vec![Period {
            duration_ms: 60_000.0,
            bandwidth_kbps: 4.0 * top,
            latency_ms: 0.0,
        }]),
    };
    let rules = vec!["default".to_string()];
    let config = SimConfig::default();
    let batch = Batch {
        ladder,
        traces: std::slice::from_ref(&fast),
        rules: &rules,
        model: ModelKind::Streamsteer,
        config: &config,
    };
    let run = || batch.run_model(engine, &|| {}).expect("the batch runs");
    let mut result = run();
    assert!(result.failures.is_empty(), "{:?}", result.failures.first().map(|f| &f.error));
    let outcome = result.outcomes.remove(0);
    assert_eq!(run().outcomes[0].segments, outcome.segments, "not deterministic");
    outcome
}
