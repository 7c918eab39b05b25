//! Test content: a CMAF encoding ladder made with ffmpeg from synthetic sources, and
//! its description (`content.json`), which the origin renders manifests from.
//!
//! [`ensure_content`] makes a folder for a [`ContentSpec`] (or reuses one made from
//! the same spec); [`ContentInfo::load`] and [`ContentInfo::validate`] read and check
//! any folder; [`ContentInfo::describe`] derives a description from the files with the
//! core fMP4 parser ([`streamsteer::container`]).
//!
//! Layout of a content folder (paths in [`ContentInfo`] are relative to it):
//!
//! ```text
//! content.json              this description
//! video/<id>/init.mp4       one init segment per rung
//! video/<id>/seg_<n>.m4s    media segments, n = 0..segment_count
//! audio/<id>/init.mp4
//! audio/<id>/seg_<n>.m4s
//! ```

use std::path::{Component, Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use streamsteer::container::{Fmp4Error, Fragment, InitSegment, TrackInfo, TrackType};

pub use crate::content_spec::{AudioSpec, ContentSpec, RungSpec, VideoCodec};
use crate::ffmpeg;

/// Format version written to `content.json` ([`ContentInfo::version`]).
pub const CONTENT_VERSION: u32 = 1;

/// File name of the description inside a content folder.
pub const CONTENT_JSON: &str = "content.json";

/// One media segment of a rendition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentInfo {
    /// Path relative to the content folder.
    pub path: String,
    /// Size in bytes.
    pub bytes: u64,
    /// Media start time, seconds (from the segment's `tfdt`).
    pub start_s: f64,
    /// Media duration, seconds (from the segment's `trun` sample durations).
    pub duration_s: f64,
}

/// One video rung.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VideoRung {
    /// Identifier, also the folder name (`v0`, `v1`, … ascending bitrate).
    pub id: String,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Frames per second.
    pub frame_rate: f64,
    /// Peak segment bitrate, bits per second (HLS `BANDWIDTH`, DASH `@bandwidth`).
    pub bandwidth_bps: u64,
    /// Mean bitrate over the whole rendition, bits per second (`AVERAGE-BANDWIDTH`).
    pub average_bandwidth_bps: u64,
    /// RFC 6381 codec string, e.g. `avc1.64001f` or `av01.0.08M.08`.
    pub codecs: String,
    /// Init segment path, relative to the content folder.
    pub init: String,
    /// Media segments in order.
    pub segments: Vec<SegmentInfo>,
}

/// The audio rendition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AudioRendition {
    /// Identifier, also the folder name (`a0`).
    pub id: String,
    /// Bits per second.
    pub bandwidth_bps: u64,
    /// RFC 6381 codec string (`mp4a.40.2`).
    pub codecs: String,
    /// Sample rate, Hz.
    pub sample_rate: u32,
    /// Channel count.
    pub channels: u32,
    /// Init segment path, relative to the content folder.
    pub init: String,
    /// Media segments in order.
    pub segments: Vec<SegmentInfo>,
}

/// What a content folder holds (`content.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContentInfo {
    /// Format version of this description.
    pub version: u32,
    /// Nominal segment duration, seconds.
    pub segment_duration_s: f64,
    /// Segments per rendition (the same for every rendition).
    pub segment_count: usize,
    /// Total media duration, seconds.
    pub duration_s: f64,
    /// Video rungs, ascending bitrate.
    pub video: Vec<VideoRung>,
    /// The audio rendition.
    pub audio: AudioRendition,
    /// The spec that made this content (absent for hand-made folders such as the
    /// committed fixture); [`ensure_content`] reuses a folder only when it matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<ContentSpec>,
}

/// Why content could not be made, loaded or trusted.
#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    /// The ffmpeg program could not be started.
    #[error(
        "ffmpeg not found (tried `{program}`): install it (Debian/Ubuntu: `apt-get install ffmpeg`) or point STREAMSTEER_FFMPEG at it"
    )]
    FfmpegMissing {
        /// The program that was tried.
        program: String,
    },
    /// ffmpeg ran and failed.
    #[error("ffmpeg failed ({status}): {stderr_tail}\ncommand: {command}")]
    Ffmpeg {
        /// The whole command line.
        command: String,
        /// The end of its stderr.
        stderr_tail: String,
        /// Its exit status.
        status: String,
    },
    /// A file or folder could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// `content.json` is not valid JSON for [`ContentInfo`].
    #[error("{}: not a valid content description: {source}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: serde_json::Error,
    },
    /// A segment could not be parsed as fMP4.
    #[error("{}: {source}", path.display())]
    Media {
        /// The file.
        path: PathBuf,
        /// The parser's error.
        source: Fmp4Error,
    },
    /// The folder does not match its description (or has none that makes sense).
    #[error("content folder {} is invalid: {reason}", dir.display())]
    Invalid {
        /// The content folder.
        dir: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The [`ContentSpec`] cannot be encoded.
    #[error("bad content spec: {0}")]
    BadSpec(String),
}

impl ContentError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        ContentError::Io { path: path.to_path_buf(), source }
    }
}

/// One rendition's files, video or audio alike, for checks that treat both the same.
struct RenditionFiles<'a> {
    id: &'a str,
    init: &'a str,
    segments: &'a [SegmentInfo],
}

impl ContentInfo {
    /// Reads `<dir>/content.json` (without checking the files; see [`validate`](Self::validate)).
    pub fn load(dir: &Path) -> Result<ContentInfo, ContentError> {
        let path = dir.join(CONTENT_JSON);
        let text = std::fs::read_to_string(&path).map_err(|e| ContentError::io(&path, e))?;
        serde_json::from_str(&text).map_err(|source| ContentError::Json { path, source })
    }

    /// Checks the description against the folder: known version, at least one video
    /// rung, the same segment count everywhere, safe relative paths, every file present
    /// with the recorded size, and segments in time order.
    pub fn validate(&self, dir: &Path) -> Result<(), ContentError> {
        let invalid = |reason: String| ContentError::Invalid { dir: dir.to_path_buf(), reason };
        if self.version != CONTENT_VERSION {
            return Err(invalid(format!(
                "version {} (this build reads {CONTENT_VERSION})",
                self.version
            )));
        }
        if self.video.is_empty() {
            return Err(invalid("no video rungs".into()));
        }
        if self.segment_count == 0 {
            return Err(invalid("segment_count is 0".into()));
        }
        let mut ids: Vec<&str> = Vec::new();
        for r in self.renditions() {
            if ids.contains(&r.id) {
                return Err(invalid(format!("rendition id `{}` appears twice", r.id)));
            }
            ids.push(r.id);
            if r.segments.len() != self.segment_count {
                return Err(invalid(format!(
                    "rendition `{}` has {} segments, segment_count is {}",
                    r.id,
                    r.segments.len(),
                    self.segment_count
                )));
            }
            check_file(dir, r.init, None).map_err(invalid)?;
            let mut previous_start = f64::NEG_INFINITY;
            for s in r.segments {
                check_file(dir, &s.path, Some(s.bytes)).map_err(invalid)?;
                if !(s.start_s >= previous_start && s.duration_s > 0.0) {
                    return Err(invalid(format!(
                        "{}: start {} s / duration {} s out of order or empty",
                        s.path, s.start_s, s.duration_s
                    )));
                }
                previous_start = s.start_s;
            }
        }
        Ok(())
    }

    /// Describes the content folder `dir` from its files: renditions `video/v0`,
    /// `video/v1`, … and `audio/a0`, each `init.mp4` plus `seg_0.m4s`, `seg_1.m4s`, …
    /// Sizes are the files'; start and duration come from each segment's `tfdt` and
    /// `trun`s; sizes, codec strings and sample rates from the init segments; peak and
    /// mean bitrates from the segment sizes and durations. `spec` is left empty.
    pub fn describe(
        dir: &Path,
        segment_duration_s: f64,
        frame_rate: f64,
    ) -> Result<ContentInfo, ContentError> {
        let mut video = Vec::new();
        for i in 0.. {
            let id = format!("v{i}");
            let folder = format!("video/{id}");
            if !dir.join(&folder).join("init.mp4").is_file() {
                break;
            }
            let (track, segments) = describe_rendition(dir, &folder, TrackType::Video)?;
            let (bandwidth_bps, average_bandwidth_bps) = bitrates(&segments);
            video.push(VideoRung {
                id,
                width: track.width,
                height: track.height,
                frame_rate,
                bandwidth_bps,
                average_bandwidth_bps,
                codecs: track.codecs_or_fourcc(),
                init: format!("{folder}/init.mp4"),
                segments,
            });
        }
        let Some(first) = video.first() else {
            return Err(ContentError::Invalid {
                dir: dir.to_path_buf(),
                reason: "no video/v0/init.mp4".into(),
            });
        };
        let segment_count = first.segments.len();
        let duration_s = first.segments.iter().map(|s| s.duration_s).sum();
        let (track, segments) = describe_rendition(dir, "audio/a0", TrackType::Audio)?;
        let audio = AudioRendition {
            id: "a0".into(),
            bandwidth_bps: bitrates(&segments).0,
            codecs: track.codecs_or_fourcc(),
            sample_rate: track.sample_rate,
            channels: track.channels,
            init: "audio/a0/init.mp4".into(),
            segments,
        };
        Ok(ContentInfo {
            version: CONTENT_VERSION,
            segment_duration_s,
            segment_count,
            duration_s,
            video,
            audio,
            spec: None,
        })
    }

    fn renditions(&self) -> impl Iterator<Item = RenditionFiles<'_>> {
        self.video
            .iter()
            .map(|v| RenditionFiles { id: &v.id, init: &v.init, segments: &v.segments })
            .chain(std::iter::once(RenditionFiles {
                id: &self.audio.id,
                init: &self.audio.init,
                segments: &self.audio.segments,
            }))
    }
}

/// A file named in content.json must be a plain relative path inside the folder (the
/// origin serves these paths), exist, and have the recorded size.
fn check_file(dir: &Path, rel: &str, bytes: Option<u64>) -> Result<(), String> {
    let path = Path::new(rel);
    if rel.is_empty() || !path.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(format!("`{rel}` is not a plain relative path"));
    }
    let meta = std::fs::metadata(dir.join(path)).map_err(|e| format!("{rel}: {e}"))?;
    if !meta.is_file() {
        return Err(format!("{rel} is not a file"));
    }
    match bytes {
        Some(expected) if meta.len() != expected => {
            Err(format!("{rel} is {} bytes, content.json says {expected}", meta.len()))
        }
        _ => Ok(()),
    }
}

fn describe_rendition(
    dir: &Path,
    folder: &str,
    kind: TrackType,
) -> Result<(TrackInfo, Vec<SegmentInfo>), ContentError> {
    let read = |rel: &str| {
        let path = dir.join(rel);
        std::fs::read(&path).map_err(|e| ContentError::io(&path, e))
    };
    let init_rel = format!("{folder}/init.mp4");
    let init = InitSegment::parse(&read(&init_rel)?)
        .map_err(|source| ContentError::Media { path: dir.join(&init_rel), source })?;
    let Some(track) = init.first_of(kind).cloned() else {
        return Err(ContentError::Invalid {
            dir: dir.to_path_buf(),
            reason: format!("{init_rel} has no {kind:?} track"),
        });
    };
    let mut segments = Vec::new();
    for n in 0.. {
        let rel = format!("{folder}/seg_{n}.m4s");
        if !dir.join(&rel).is_file() {
            break;
        }
        let data = read(&rel)?;
        let fragment = Fragment::parse(&data, &init)
            .map_err(|source| ContentError::Media { path: dir.join(&rel), source })?;
        let Some(run) = fragment.track(track.track_id) else {
            return Err(ContentError::Invalid {
                dir: dir.to_path_buf(),
                reason: format!("{rel} has no samples of track {}", track.track_id),
            });
        };
        segments.push(SegmentInfo {
            path: rel,
            bytes: data.len() as u64,
            start_s: run.start_s(),
            duration_s: run.duration_s(),
        });
    }
    Ok((track, segments))
}

/// (peak segment bitrate, mean bitrate), bits per second.
fn bitrates(segments: &[SegmentInfo]) -> (u64, u64) {
    let peak = segments
        .iter()
        .filter(|s| s.duration_s > 0.0)
        .map(|s| (s.bytes as f64 * 8.0 / s.duration_s).round() as u64)
        .max()
        .unwrap_or(0);
    let bytes: u64 = segments.iter().map(|s| s.bytes).sum();
    let seconds: f64 = segments.iter().map(|s| s.duration_s).sum();
    let mean = if seconds > 0.0 { (bytes as f64 * 8.0 / seconds).round() as u64 } else { 0 };
    (peak, mean)
}

/// Where the default content lives: `$STREAMSTEER_CONTENT_DIR` when set, else
/// `<workspace>/target/streamsteer-content/<tag of the default spec>` (the workspace
/// this crate was built from).
pub fn default_content_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("STREAMSTEER_CONTENT_DIR") {
        return PathBuf::from(dir);
    }
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let workspace = crate_dir.parent().unwrap_or(crate_dir);
    workspace.join("target").join("streamsteer-content").join(ContentSpec::default().tag())
}

/// Makes the content `spec` describes in `dir` with ffmpeg, or reuses `dir` when its
/// content.json records the same spec and its files check out. The ffmpeg program is
/// `$STREAMSTEER_FFMPEG` when set, else `ffmpeg` on the `PATH`. See
/// [`ensure_content_with`].
pub fn ensure_content(
    dir: &Path,
    spec: &ContentSpec,
    progress: &mut dyn FnMut(&str),
) -> Result<ContentInfo, ContentError> {
    let ffmpeg = std::env::var_os("STREAMSTEER_FFMPEG")
        .map_or_else(|| PathBuf::from("ffmpeg"), PathBuf::from);
    ensure_content_with(dir, spec, &ffmpeg, progress)
}

/// [`ensure_content`] with an explicit ffmpeg program.
///
/// The ladder is built in a hidden sibling folder, described (content.json written
/// last) and then renamed onto `dir`, so an interrupted run never leaves a folder
/// that looks complete; stale content in `dir` (another spec, or files that fail
/// [`ContentInfo::validate`]) is replaced.
pub fn ensure_content_with(
    dir: &Path,
    spec: &ContentSpec,
    ffmpeg_program: &Path,
    progress: &mut dyn FnMut(&str),
) -> Result<ContentInfo, ContentError> {
    spec.check().map_err(ContentError::BadSpec)?;
    if let Some(info) = reusable(dir, spec) {
        progress(&format!("reusing content in {}", dir.display()));
        return Ok(info);
    }
    progress(&format!(
        "making {} s of {} content ({} rungs) in {} with ffmpeg",
        spec.duration_s,
        spec.video_codec.name(),
        spec.rungs.len(),
        dir.display()
    ));
    let started = std::time::Instant::now();
    let info = build_atomically(
        dir,
        |partial| generate_into(partial, spec, ffmpeg_program, progress),
        || reusable(dir, spec),
    )?;
    tracing::info!(dir = %dir.display(), seconds = started.elapsed().as_secs_f64(), "content made");
    progress(&format!(
        "content ready in {} ({:.0} s)",
        dir.display(),
        started.elapsed().as_secs_f64()
    ));
    Ok(info)
}

/// Builds a content folder in a hidden sibling of `dir` with `build`, then renames it
/// onto `dir` (replacing what was there), so an interrupted run never leaves a folder
/// that looks complete. When the rename loses a race with another process making the
/// same folder, `reuse` says whether its copy will do.
fn build_atomically(
    dir: &Path,
    build: impl FnOnce(&Path) -> Result<ContentInfo, ContentError>,
    reuse: impl FnOnce() -> Option<ContentInfo>,
) -> Result<ContentInfo, ContentError> {
    let (parent, name) = match (dir.parent(), dir.file_name()) {
        (Some(parent), Some(name)) => (parent, name.to_string_lossy().into_owned()),
        _ => {
            return Err(ContentError::BadSpec(format!(
                "{} cannot be a content folder",
                dir.display()
            )));
        }
    };
    let parent = if parent.as_os_str().is_empty() { Path::new(".") } else { parent };
    std::fs::create_dir_all(parent).map_err(|e| ContentError::io(parent, e))?;
    remove_stale_partials(parent, &name);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let partial = parent.join(format!(".{name}.partial-{}-{nanos}", std::process::id()));
    let info = match build(&partial) {
        Ok(info) => info,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&partial);
            return Err(e);
        }
    };
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| ContentError::io(dir, e))?;
    }
    if let Err(e) = std::fs::rename(&partial, dir) {
        let _ = std::fs::remove_dir_all(&partial);
        return reuse().ok_or_else(|| ContentError::io(dir, e));
    }
    Ok(info)
}

/// A VOD content folder in `dst` that plays the content of `src` `loops` times in a
/// row: the same files, each loop's decode times moved forward by the content's
/// duration (as the live stream does), with no encoder involved. `dst` is reused when
/// it already holds these loops of this content. The demo plays the committed
/// [`demo_asset_dir`] this way on a machine without ffmpeg.
pub fn loop_content(src: &Path, dst: &Path, loops: usize) -> Result<ContentInfo, ContentError> {
    let info = ContentInfo::load(src)?;
    info.validate(src)?;
    let invalid = |reason: String| ContentError::Invalid { dir: src.to_path_buf(), reason };
    if loops == 0 {
        return Err(invalid("zero loops".into()));
    }
    let expected =
        info.segment_count.checked_mul(loops).ok_or_else(|| invalid("too many loops".into()))?;
    let fits = |made: &ContentInfo| {
        made.segment_count == expected
            && made.spec == info.spec
            && made.video.len() == info.video.len()
    };
    if let Ok(made) = ContentInfo::load(dst)
        && fits(&made)
        && made.validate(dst).is_ok()
    {
        return Ok(made);
    }
    let frame_rate = info.video.first().map_or(30.0, |v| v.frame_rate);
    build_atomically(
        dst,
        |partial| {
            for r in info.renditions() {
                let folder = Path::new(r.init).parent().unwrap_or(Path::new(""));
                let out = partial.join(folder);
                std::fs::create_dir_all(&out).map_err(|e| ContentError::io(&out, e))?;
                let init_path = src.join(r.init);
                let init =
                    std::fs::read(&init_path).map_err(|e| ContentError::io(&init_path, e))?;
                let timescale = crate::boxes::media_timescale(&init)
                    .map_err(|e| invalid(format!("{}: {e}", r.init)))?;
                let init_out = partial.join(r.init);
                std::fs::write(&init_out, &init).map_err(|e| ContentError::io(&init_out, e))?;
                for k in 0..loops {
                    for (i, seg) in r.segments.iter().enumerate() {
                        let path = src.join(&seg.path);
                        let mut bytes =
                            std::fs::read(&path).map_err(|e| ContentError::io(&path, e))?;
                        if k > 0 {
                            let offset_s = k as f64 * info.duration_s;
                            crate::boxes::shift_decode_times(&mut bytes, offset_s, timescale)
                                .map_err(|e| invalid(format!("{}: {e}", seg.path)))?;
                        }
                        let n = k * info.segment_count + i;
                        let to = out.join(format!("seg_{n}.m4s"));
                        std::fs::write(&to, &bytes).map_err(|e| ContentError::io(&to, e))?;
                    }
                }
            }
            let mut made = ContentInfo::describe(partial, info.segment_duration_s, frame_rate)?;
            made.spec = info.spec.clone();
            made.validate(partial)?;
            let path = partial.join(CONTENT_JSON);
            let json = serde_json::to_string_pretty(&made)
                .map_err(|source| ContentError::Json { path: path.clone(), source })?;
            std::fs::write(&path, json + "\n").map_err(|e| ContentError::io(&path, e))?;
            Ok(made)
        },
        || ContentInfo::load(dst).ok().filter(fits),
    )
}

/// The demo's presentation: the committed [`demo_asset_dir`] looped `loops` times by
/// [`loop_content`] into `<workspace>/target/streamsteer-content/demo-<tag>-x<loops>`
/// (made once, in a second or two). Needs no encoder.
pub fn demo_content(loops: usize) -> Result<(PathBuf, ContentInfo), ContentError> {
    let tag = ContentSpec::demo_asset().tag();
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let workspace = crate_dir.parent().unwrap_or(crate_dir);
    let dst =
        workspace.join("target").join("streamsteer-content").join(format!("demo-{tag}-x{loops}"));
    let info = loop_content(&demo_asset_dir(), &dst, loops)?;
    Ok((dst, info))
}

/// The compact AV1 + AAC ladder committed with the repository
/// (`origin/assets/demo/`, made by [`ContentSpec::demo_asset`] with
/// `cargo run -p streamsteer-origin --example make_content -- demo`): what the demo
/// plays on a machine with nothing but the Rust toolchain.
pub fn demo_asset_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets").join("demo")
}

/// The folder's description when it was made from exactly `spec` and still checks out.
fn reusable(dir: &Path, spec: &ContentSpec) -> Option<ContentInfo> {
    let info = ContentInfo::load(dir).ok()?;
    if info.spec.as_ref() != Some(spec) {
        tracing::info!(dir = %dir.display(), "content folder holds another spec; remaking it");
        return None;
    }
    match info.validate(dir) {
        Ok(()) => Some(info),
        Err(e) => {
            tracing::warn!(error = %e, "content folder fails validation; remaking it");
            None
        }
    }
}

/// Removes partial folders of `name` left by runs that died more than an hour ago (a
/// younger one may belong to a run still going).
fn remove_stale_partials(parent: &Path, name: &str) {
    let prefix = format!(".{name}.partial-");
    let Ok(entries) = std::fs::read_dir(parent) else { return };
    for entry in entries.flatten() {
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age.as_secs() > 3600);
        if stale && entry.file_name().to_string_lossy().starts_with(&prefix) {
            tracing::info!(path = %entry.path().display(), "removing a stale partial content folder");
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn generate_into(
    dir: &Path,
    spec: &ContentSpec,
    ffmpeg_program: &Path,
    progress: &mut dyn FnMut(&str),
) -> Result<ContentInfo, ContentError> {
    let folders =
        (0..spec.rungs.len()).map(|i| format!("video/v{i}")).chain(["audio/a0".to_owned()]);
    for folder in folders.clone() {
        let path = dir.join(folder);
        std::fs::create_dir_all(&path).map_err(|e| ContentError::io(&path, e))?;
    }
    ffmpeg::run(ffmpeg_program, &ffmpeg::ladder_args(spec), dir, spec.duration_s, progress)?;
    // The origin renders its own manifests; ffmpeg's playlists would only mislead.
    for folder in folders {
        let _ = std::fs::remove_file(dir.join(folder).join("index.m3u8"));
    }
    let _ = std::fs::remove_file(dir.join(ffmpeg::LOG_FILE));

    progress("describing the segments");
    let mut info = ContentInfo::describe(dir, spec.segment_duration_s, f64::from(spec.frame_rate))?;
    let invalid = |reason: String| ContentError::Invalid { dir: dir.to_path_buf(), reason };
    if info.video.len() != spec.rungs.len() {
        return Err(invalid(format!(
            "ffmpeg made {} rungs, the spec asks for {}",
            info.video.len(),
            spec.rungs.len()
        )));
    }
    if info.segment_count != spec.segment_count() {
        return Err(invalid(format!(
            "ffmpeg made {} segments per rendition, the spec asks for {}",
            info.segment_count,
            spec.segment_count()
        )));
    }
    for (rung, target) in info.video.iter().zip(&spec.rungs) {
        let ratio = rung.average_bandwidth_bps as f64 / (f64::from(target.bitrate_kbps) * 1000.0);
        tracing::info!(rung = %rung.id, average_bps = rung.average_bandwidth_bps, peak_bps = rung.bandwidth_bps, ratio, "rung made");
        if !(0.5..=1.5).contains(&ratio) {
            tracing::warn!(rung = %rung.id, ratio, "rung bitrate far from its target");
        }
    }
    info.spec = Some(spec.clone());
    info.validate(dir)?;
    let json = serde_json::to_string_pretty(&info)
        .map_err(|source| ContentError::Json { path: dir.join(CONTENT_JSON), source })?;
    let path = dir.join(CONTENT_JSON);
    std::fs::write(&path, json + "\n").map_err(|e| ContentError::io(&path, e))?;
    Ok(info)
}
