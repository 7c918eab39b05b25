//! Loading encoding ladders: Sabre movie JSON, Pensieve `video_size_N` folders, and
//! HLS/DASH manifests.

use serde::Deserialize;
use std::path::{Path, PathBuf};
use streamsteer::{Ladder, LadderError};
use thiserror::Error;

/// Errors loading a ladder.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum LadderLoadError {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// Path that failed.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// A Sabre movie or Pensieve `ladder.json` is malformed.
    #[error("{path}: expected {expected}: {source}")]
    Json {
        /// Path that failed.
        path: PathBuf,
        /// What the file should have held.
        expected: &'static str,
        /// Underlying error.
        source: serde_json::Error,
    },
    /// The file is none of the ladder formats.
    #[error(
        "{path}: expected a ladder (a Sabre movie JSON object, a Pensieve folder of video_size_N files, an HLS playlist or a DASH MPD), found {found}"
    )]
    NotALadder {
        /// Path.
        path: PathBuf,
        /// What the file holds instead.
        found: String,
    },
    /// A `video_size_N` file has a bad line.
    #[error("{path}: line {line}: expected a segment size in bytes, found {text:?}")]
    SizeLine {
        /// File.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// Offending text.
        text: String,
    },
    /// The folder has no `video_size_0`.
    #[error(
        "{0}: expected a Pensieve ladder folder (video_size_0 … video_size_N), found no video_size_0"
    )]
    NoSizeFiles(PathBuf),
    /// A manifest could not be turned into a ladder.
    #[error("{path}: {message}")]
    Manifest {
        /// Manifest path.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The numbers do not form a valid ladder.
    #[error("{path}: {source}")]
    Invalid {
        /// Path.
        path: PathBuf,
        /// Why.
        source: LadderError,
    },
}

/// A ladder and what it was loaded from.
#[derive(Debug, Clone)]
pub struct LoadedLadder {
    /// Display name (file or folder name).
    pub name: String,
    /// The ladder.
    pub ladder: Ladder,
}

#[derive(Deserialize)]
struct SabreMovie {
    segment_duration_ms: f64,
    bitrates_kbps: Vec<f64>,
    segment_sizes_bits: Vec<Vec<f64>>,
}

#[derive(Deserialize)]
struct PensieveLadderJson {
    #[serde(default)]
    segment_duration_s_nominal: Option<f64>,
    levels: Vec<PensieveLevel>,
}

#[derive(Deserialize)]
struct PensieveLevel {
    bitrate_kbps: f64,
}

const SABRE_MOVIE: &str =
    "a Sabre movie JSON object {segment_duration_ms, bitrates_kbps, segment_sizes_bits}";
const PENSIEVE_LADDER_JSON: &str =
    "a Pensieve ladder.json {levels: [{bitrate_kbps}, …], segment_duration_s_nominal}";

/// Pensieve's nominal chunk duration when a folder has no `ladder.json`.
pub const PENSIEVE_CHUNK_S: f64 = 4.0;

fn read(path: &Path) -> Result<String, LadderLoadError> {
    std::fs::read_to_string(path)
        .map_err(|source| LadderLoadError::Io { path: path.into(), source })
}

fn name_of(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// Parses a Sabre movie JSON document.
pub fn parse_sabre_movie(path: &Path, text: &str) -> Result<Ladder, LadderLoadError> {
    let movie: SabreMovie = serde_json::from_str(text).map_err(|source| LadderLoadError::Json {
        path: path.into(),
        expected: SABRE_MOVIE,
        source,
    })?;
    Ladder::new(movie.bitrates_kbps, movie.segment_duration_ms / 1000.0, movie.segment_sizes_bits)
        .map_err(|source| LadderLoadError::Invalid { path: path.into(), source })
}

/// Loads a Sabre movie JSON file.
pub fn load_sabre_movie(path: &Path) -> Result<Ladder, LadderLoadError> {
    parse_sabre_movie(path, &read(path)?)
}

/// Loads a Pensieve ladder folder: `video_size_0` … `video_size_N` (bytes per segment,
/// one per line, rung 0 the lowest), with bitrates from `ladder.json` when present and
/// otherwise the mean encoded rate rounded to 50 kbit/s, and 4 s segments.
pub fn load_pensieve_folder(dir: &Path) -> Result<Ladder, LadderLoadError> {
    let mut columns: Vec<Vec<f64>> = Vec::new();
    for level in 0.. {
        let path = dir.join(format!("video_size_{level}"));
        if !path.exists() {
            break;
        }
        let text = read(&path)?;
        let mut sizes = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let t = line.trim();
            if t.is_empty() {
                continue;
            }
            let bytes: f64 =
                t.parse().ok().filter(|b: &f64| b.is_finite() && *b >= 0.0).ok_or_else(|| {
                    LadderLoadError::SizeLine {
                        path: path.clone(),
                        line: i + 1,
                        text: t.to_string(),
                    }
                })?;
            sizes.push(bytes * 8.0);
        }
        columns.push(sizes);
    }
    if columns.is_empty() {
        return Err(LadderLoadError::NoSizeFiles(dir.into()));
    }
    let segments = columns.iter().map(Vec::len).min().unwrap_or(0);
    let meta_path = dir.join("ladder.json");
    let (bitrates, duration) = if meta_path.exists() {
        let meta: PensieveLadderJson =
            serde_json::from_str(&read(&meta_path)?).map_err(|source| LadderLoadError::Json {
                path: meta_path.clone(),
                expected: PENSIEVE_LADDER_JSON,
                source,
            })?;
        (
            meta.levels.iter().map(|l| l.bitrate_kbps).collect::<Vec<_>>(),
            meta.segment_duration_s_nominal.unwrap_or(PENSIEVE_CHUNK_S),
        )
    } else {
        let rates = columns
            .iter()
            .map(|c| {
                let mean = c.iter().take(segments).sum::<f64>() / segments.max(1) as f64;
                (mean / PENSIEVE_CHUNK_S / 1000.0 / 50.0).round().max(1.0) * 50.0
            })
            .collect();
        (rates, PENSIEVE_CHUNK_S)
    };
    if bitrates.len() != columns.len() {
        return Err(LadderLoadError::Manifest {
            path: meta_path,
            message: format!(
                "expected one level per video_size file ({}), found {}",
                columns.len(),
                bitrates.len()
            ),
        });
    }
    let sizes = (0..segments).map(|s| columns.iter().map(|c| c[s]).collect()).collect();
    Ladder::new(bitrates, duration, sizes)
        .map_err(|source| LadderLoadError::Invalid { path: dir.into(), source })
}

/// Loads a ladder from a Sabre movie JSON file, a Pensieve folder, or an HLS/DASH
/// manifest (detected from the content).
pub fn load_ladder(path: &Path) -> Result<LoadedLadder, LadderLoadError> {
    let name = name_of(path);
    if path.is_dir() {
        return Ok(LoadedLadder { name, ladder: load_pensieve_folder(path)? });
    }
    let bytes =
        std::fs::read(path).map_err(|source| LadderLoadError::Io { path: path.into(), source })?;
    let not_a_ladder = |found: String| LadderLoadError::NotALadder { path: path.into(), found };
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        let at = e.valid_up_to();
        not_a_ladder(format!(
            "binary data (byte 0x{:02x} at offset {at} is not UTF-8)",
            bytes.get(at).copied().unwrap_or(0)
        ))
    })?;
    let start = text.trim_start();
    let ladder = if start.starts_with('{') {
        parse_sabre_movie(path, text)?
    } else if start.is_empty() {
        return Err(not_a_ladder("an empty file".into()));
    } else if start.starts_with('[') {
        return Err(not_a_ladder("a JSON array".into()));
    } else if streamsteer::manifest::detect(text).is_none() {
        let first = start.lines().next().unwrap_or_default().trim();
        let mut shown: String = first.chars().take(60).collect();
        if shown.len() < first.len() {
            shown.push('…');
        }
        return Err(not_a_ladder(format!("{shown:?}")));
    } else {
        manifest_ladder(path, text)?
    };
    Ok(LoadedLadder { name, ladder })
}

/// A ladder from a manifest's main video track: segment sizes from byte ranges where the
/// manifest gives them, otherwise each rendition's bandwidth times segment duration.
///
/// An HLS multivariant playlist names media playlists; local ones (relative to the
/// manifest, or `file://`) are read and applied first, as a player would fetch them.
fn manifest_ladder(path: &Path, text: &str) -> Result<Ladder, LadderLoadError> {
    let manifest_err = |message: String| LadderLoadError::Manifest { path: path.into(), message };
    let base =
        streamsteer::uri::Url::from_file_path(path).map_err(|e| manifest_err(e.to_string()))?;
    let mut presentation =
        streamsteer::manifest::parse_any(text, &base).map_err(|e| manifest_err(e.to_string()))?;
    for (rendition, url) in presentation.pending_playlists() {
        // A local manifest may name local playlists (its own document is local); a
        // remote one is not fetched.
        let Some(local) = url.to_file_path() else {
            return Err(manifest_err(format!(
                "media playlist {url} of rendition {rendition} is not a local file"
            )));
        };
        let Ok(playlist) = std::fs::read_to_string(&local) else {
            return Err(manifest_err(format!(
                "media playlist {url} of rendition {rendition} is not a readable local file"
            )));
        };
        presentation
            .apply_media_playlist(&rendition, &playlist, &url)
            .map_err(|e| manifest_err(format!("{url}: {e}")))?;
    }
    presentation.to_ladder().map_err(|e| manifest_err(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sabre_movie_errors_name_the_problem() {
        let p = Path::new("m.json");
        let e = parse_sabre_movie(
            p,
            r#"{"segment_duration_ms": 3000, "bitrates_kbps": [2, 1], "segment_sizes_bits": []}"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains("not positive and ascending"), "{e}");
        assert!(parse_sabre_movie(p, "{").is_err());
    }

    fn fixture(rel: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures").join(rel)
    }

    #[test]
    fn hls_multivariant_loads_its_media_playlists() {
        let loaded = load_ladder(&fixture("ffmpeg/hls/master.m3u8")).unwrap();
        assert!(loaded.ladder.len() >= 3, "{:?}", loaded.ladder.bitrates_kbps());
        assert!(loaded.ladder.segment_count() >= 4);
        assert!((loaded.ladder.segment_duration_s() - 2.0).abs() < 0.1);
    }

    #[test]
    fn dash_manifest_gives_a_ladder() {
        let loaded = load_ladder(&fixture("ffmpeg/dash/manifest.mpd")).unwrap();
        assert!(loaded.ladder.len() >= 3);
        assert!(loaded.ladder.bitrates_kbps().windows(2).all(|w| w[0] < w[1]));
    }
}
