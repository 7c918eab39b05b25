//! `streamsteer inspect`: parse one manifest and describe the presentation.

use std::fmt::Write as _;
use std::io::Read as _;
use std::path::Path;
use streamsteer::manifest::{self, ManifestError, Presentation, Rendition, SegmentIndex, Track};
use streamsteer::uri::{Url, UrlError};
use streamsteer_net::PlayerConfig;
use streamsteer_net::fetch::{FetchError, fetch_document};
use thiserror::Error;

/// Why a manifest could not be inspected.
#[derive(Debug, Error)]
pub enum InspectError {
    /// The target is neither a path nor a URL the player would load.
    #[error("{target}: {source}")]
    Url {
        /// The target as given.
        target: String,
        /// Why.
        source: UrlError,
    },
    /// A remote manifest could not be fetched.
    #[error("{url}: {source}")]
    Fetch {
        /// The URL.
        url: String,
        /// What went wrong (connection, HTTP status, redirect, body size).
        source: FetchError,
    },
    /// The HTTP client or its runtime could not start.
    #[error("cannot start the HTTP client: {0}")]
    Client(String),
    /// The file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The path.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is larger than a manifest may be.
    #[error("{path}: larger than the {limit}-byte manifest limit")]
    TooLarge {
        /// The path.
        path: String,
        /// The limit (the player's `net.limits.manifest_bytes`).
        limit: u64,
    },
    /// The manifest is malformed.
    #[error("{path}: {source}")]
    Manifest {
        /// The path.
        path: String,
        /// What is wrong with it.
        source: ManifestError,
    },
    /// JSON serialization failed (not expected for a parsed presentation).
    #[error("cannot serialize the presentation: {0}")]
    Json(#[from] serde_json::Error),
}

/// Fetches manifests the way the player does: its timeouts, retries, checked
/// redirects and body limits (the defaults of [`PlayerConfig`]).
struct Loader {
    config: PlayerConfig,
    client: reqwest::Client,
    runtime: tokio::runtime::Runtime,
}

impl Loader {
    fn new() -> Result<Self, InspectError> {
        let config = PlayerConfig::default();
        let client = streamsteer_net::build_client(&config)
            .map_err(|e| InspectError::Client(e.to_string()))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| InspectError::Client(e.to_string()))?;
        Ok(Self { config, client, runtime })
    }

    /// Reads the document at `url`: a local file only when the URL is `file:` (which
    /// only a local document can name), else over HTTP. Returns the text and the URL
    /// after redirects.
    fn load(&self, url: &Url) -> Result<(String, Url), InspectError> {
        let limit = self.config.net.limits.manifest_bytes;
        if let Some(path) = url.to_file_path() {
            let shown = path.display().to_string();
            let read_err = |source| InspectError::Read { path: shown.clone(), source };
            let mut bytes = Vec::new();
            std::fs::File::open(&path)
                .and_then(|f| f.take(limit.saturating_add(1)).read_to_end(&mut bytes))
                .map_err(read_err)?;
            if bytes.len() as u64 > limit {
                return Err(InspectError::TooLarge { path: shown, limit });
            }
            return Ok((String::from_utf8_lossy(&bytes).into_owned(), url.clone()));
        }
        let doc = self
            .runtime
            .block_on(fetch_document(&self.client, &self.config, url))
            .map_err(|source| InspectError::Fetch { url: url.to_string(), source })?;
        Ok((doc.text, doc.url))
    }
}

/// The URL of what the user named: a URL, or else a local path.
fn target_url(target: &str) -> Result<Url, InspectError> {
    let url_err = |source| InspectError::Url { target: target.to_string(), source };
    let scheme = target.split_once(':').map(|(s, _)| s.to_ascii_lowercase());
    match scheme.as_deref() {
        Some("http" | "https" | "file") => Url::parse(target).map_err(url_err),
        _ => Url::from_file_path(Path::new(target)).map_err(url_err),
    }
}

/// Parses `target` (a path or URL) and returns a human-readable description, or the
/// presentation as pretty JSON when `json` is set.
///
/// For an HLS multivariant playlist the media playlists are loaded too (as a player
/// would), so segment counts and durations are known; one that cannot be loaded is
/// reported as a warning, not a failure. A remote manifest's playlists are fetched
/// over HTTP only: a `file:` reference in it is refused, never read.
pub fn run(target: &str, json: bool) -> Result<String, InspectError> {
    let loader = Loader::new()?;
    let url = target_url(target)?;
    let (text, url) = loader.load(&url)?;
    let mut presentation = manifest::parse_any(&text, &url)
        .map_err(|source| InspectError::Manifest { path: target.to_string(), source })?;
    drop(text);
    for (rendition, url) in presentation.pending_playlists() {
        let applied = loader.load(&url).map_err(|e| e.to_string()).and_then(|(playlist, at)| {
            presentation
                .apply_media_playlist(&rendition, &playlist, &at)
                .map_err(|e| format!("{url}: {e}"))
        });
        if let Err(e) = applied {
            presentation.warnings.push(format!("media playlist of {rendition} not loaded: {e}"));
        }
    }
    if json {
        let mut out = serde_json::to_string_pretty(&presentation)?;
        out.push('\n');
        return Ok(out);
    }
    Ok(describe(&presentation))
}

fn kbps(bps: u64) -> String {
    format!("{:.0} kbit/s", bps as f64 / 1000.0)
}

fn describe_index(r: &Rendition) -> String {
    match &r.index {
        SegmentIndex::Unresolved => match &r.playlist_url {
            Some(u) => format!("media playlist not loaded ({u})"),
            None => "no segments of its own".to_string(),
        },
        SegmentIndex::Segments(list) => {
            let total: f64 = list.segments.iter().map(|s| s.duration_s).sum();
            let ranges = list.segments.iter().filter(|s| s.byte_range.is_some()).count();
            let mut s = format!("{} segments, {total:.3} s", list.segments.len());
            if ranges > 0 {
                let _ = write!(s, ", {ranges} byte ranges");
            }
            if !list.ended {
                s.push_str(", live");
            }
            s
        }
        SegmentIndex::Base(b) => {
            let index = b.index_range.map(|r| format!("sidx at bytes {}+{}", r.offset, r.length));
            format!("SegmentBase {} ({})", b.url, index.unwrap_or_else(|| "no index range".into()))
        }
        SegmentIndex::LiveTemplate(t) => format!(
            "live template {} ({:.3} s segments from #{}; segments depend on the wall clock)",
            t.media,
            t.segment_duration_s(),
            t.start_number
        ),
        _ => "an index form this version does not describe".to_string(),
    }
}

fn describe_track(out: &mut String, t: &Track) {
    let _ = write!(out, "  track {} ({:?}", t.id, t.media_type);
    if let Some(l) = &t.language {
        let _ = write!(out, ", language {l}");
    }
    if let Some(n) = &t.name {
        let _ = write!(out, ", \"{n}\"");
    }
    if t.default {
        out.push_str(", default");
    }
    if t.trick_play {
        out.push_str(", trick play");
    }
    let _ = writeln!(out, "): {} rendition(s)", t.renditions.len());
    for r in &t.renditions {
        let _ = write!(out, "    {}:", r.id);
        if let Some(b) = r.bandwidth {
            let _ = write!(out, " {}", kbps(b));
        }
        if let Some(b) = r.average_bandwidth {
            let _ = write!(out, " (avg {})", kbps(b));
        }
        if let Some(res) = r.resolution {
            let _ = write!(out, " {}x{}", res.width, res.height);
        }
        if let Some(f) = r.frame_rate {
            let _ = write!(out, " {f:.3} fps");
        }
        if let Some(c) = &r.codecs {
            let _ = write!(out, " codecs={c}");
        }
        if let Some(g) = r.group_id.as_ref().or(r.audio_group.as_ref()) {
            let _ = write!(out, " group={g}");
        }
        if let Some(p) = &r.pathway_id {
            let _ = write!(out, " pathway={p}");
        }
        let _ = writeln!(out, " — {}", describe_index(r));
    }
}

/// The human-readable description.
pub fn describe(p: &Presentation) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} presentation: {}", format!("{:?}", p.kind).to_uppercase(), p.url);
    let _ = write!(out, "type: {:?}", p.presentation_type);
    match p.duration_s {
        Some(d) => {
            let _ = writeln!(out, ", duration {d:.3} s");
        }
        None => out.push('\n'),
    }
    if let Some(live) = &p.live {
        let mut parts = Vec::new();
        if let Some(s) = live.media_sequence {
            parts.push(format!("media sequence {s}"));
        }
        if let Some(t) = live.target_duration_s {
            parts.push(format!("target duration {t} s"));
        }
        if let Some(a) = &live.availability_start_time {
            parts.push(format!("availabilityStartTime {a}"));
        }
        if let Some(d) = live.time_shift_buffer_depth_s {
            parts.push(format!("timeShiftBufferDepth {d} s"));
        }
        if let Some(m) = live.minimum_update_period_s {
            parts.push(format!("minimumUpdatePeriod {m} s"));
        }
        let _ = writeln!(
            out,
            "live window: {}",
            if parts.is_empty() { "-".into() } else { parts.join(", ") }
        );
    }
    if !p.pathways.is_empty() {
        let ids: Vec<&str> = p.pathways.iter().map(|x| x.id.as_str()).collect();
        let _ = writeln!(out, "pathways: {}", ids.join(", "));
    }
    if let Some(s) = &p.steering {
        let _ = write!(out, "content steering: {}", s.server_url);
        if !s.default_pathways.is_empty() {
            let _ = write!(out, " (initial pathway {})", s.default_pathways.join(" "));
        }
        if s.query_before_start {
            out.push_str(", query before start");
        }
        if let Some(proxy) = &s.proxy_server_url {
            let _ = write!(out, ", proxy {proxy}");
        }
        out.push('\n');
    }
    for (i, period) in p.periods.iter().enumerate() {
        let _ = write!(out, "period {i}");
        if let Some(id) = &period.id {
            let _ = write!(out, " (id {id})");
        }
        let _ = write!(out, ": start {:.3} s", period.start_s);
        if let Some(d) = period.duration_s {
            let _ = write!(out, ", duration {d:.3} s");
        }
        let _ = writeln!(out, ", {} track(s)", period.tracks.len());
        for t in &period.tracks {
            describe_track(&mut out, t);
        }
    }
    if !p.warnings.is_empty() {
        let _ = writeln!(out, "warnings:");
        for w in &p.warnings {
            let _ = writeln!(out, "  - {w}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(rel: &str) -> String {
        format!("{}/../tests/fixtures/{rel}", env!("CARGO_MANIFEST_DIR"))
    }

    #[test]
    fn describes_a_dash_ladder() {
        let text = run(&fixture("ffmpeg/dash/manifest.mpd"), false).unwrap();
        assert!(text.starts_with("DASH presentation"), "{text}");
        assert!(
            text.contains(
                "0: 2500 kbit/s 1280x720 30.000 fps codecs=avc1.64001f — 4 segments, 8.000 s"
            ),
            "{text}"
        );
        assert!(text.contains("track 1 (Audio)"), "{text}");
    }

    #[test]
    fn describes_steering_and_json() {
        let text = run(&fixture("steering/multivariant.m3u8"), false).unwrap();
        assert!(text.contains("pathways: oca, cloudfront"), "{text}");
        assert!(text.contains("(initial pathway oca)"), "{text}");
        let json = run(&fixture("steering/manifest.mpd"), true).unwrap();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["kind"], "dash");
        assert_eq!(v["steering"]["default_pathways"][0], "oca");
    }

    /// A loopback HTTP/1.1 server answering GETs from `root` (404 for anything else),
    /// one request per connection, until the test process ends.
    fn serve(root: std::path::PathBuf) -> String {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming().take(64) {
                let Ok(mut stream) = stream else { continue };
                let mut line = String::new();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                // Drain the headers.
                let mut h = String::new();
                while reader.read_line(&mut h).is_ok_and(|n| n > 2) {
                    h.clear();
                }
                let path = line.split_whitespace().nth(1).unwrap_or("/").trim_start_matches('/');
                let (status, body) = match std::fs::read(root.join(path)) {
                    Ok(b) if !path.contains("..") => ("200 OK", b),
                    _ => ("404 Not Found", b"not found".to_vec()),
                };
                let head = format!(
                    "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
            }
        });
        format!("http://{addr}")
    }

    #[test]
    fn fetches_over_http_with_media_playlists() {
        let base = serve(std::path::PathBuf::from(fixture("ffmpeg/hls")));
        let text = run(&format!("{base}/master.m3u8"), false).unwrap();
        assert!(text.starts_with("HLS presentation"), "{text}");
        // Media playlists were fetched from the same origin: segment counts are known.
        assert!(text.contains("segments, 8.000 s"), "{text}");
        assert!(!text.contains("not loaded"), "{text}");
        let e = run(&format!("{base}/missing.m3u8"), false).unwrap_err().to_string();
        assert!(e.contains("404"), "{e}");
    }

    #[test]
    fn a_remote_manifest_never_reaches_the_local_file_system() {
        let dir = std::env::temp_dir().join(format!("ss-inspect-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let zero = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nfile:///dev/zero\n";
        std::fs::write(dir.join("zero.m3u8"), zero).unwrap();
        let media = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MAP:URI=\"file:///etc/passwd\"\n#EXTINF:2,\na.m4s\n#EXT-X-ENDLIST\n";
        std::fs::write(dir.join("media.m3u8"), media).unwrap();
        let base = serve(dir.clone());
        let started = std::time::Instant::now();
        for name in ["zero.m3u8", "media.m3u8"] {
            let e = run(&format!("{base}/{name}"), false).unwrap_err().to_string();
            assert!(e.contains("may not name a local file"), "{name}: {e}");
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
        // The same playlist read from disk may name local files: it is local itself.
        let local = run(&dir.join("media.m3u8").display().to_string(), false).unwrap();
        assert!(local.contains("1 segments"), "{local}");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn an_endless_remote_manifest_stops_at_the_limit() {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming().take(4) {
                let Ok(mut stream) = stream else { continue };
                let mut head = [0u8; 1024];
                let _ = stream.read(&mut head);
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n#EXTM3U\n");
                let chunk = vec![b'#'; 64 * 1024];
                while stream.write_all(&chunk).is_ok() {}
            }
        });
        let e = run(&format!("http://{addr}/endless.m3u8"), false).unwrap_err();
        let limit = PlayerConfig::default().net.limits.manifest_bytes;
        assert!(
            matches!(&e, InspectError::Fetch { source: FetchError::TooLarge { limit: l }, .. } if *l == limit),
            "{e}"
        );
    }

    #[test]
    fn local_multivariant_loads_its_media_playlists() {
        let text = run(&fixture("ffmpeg/hls/master.m3u8"), false).unwrap();
        assert!(text.contains("segments, 8.000 s") && !text.contains("not loaded"), "{text}");
    }

    #[test]
    fn errors_are_clear() {
        assert!(matches!(run("/nonexistent/x.m3u8", false), Err(InspectError::Read { .. })));
        let bad = format!(
            "{}/../../shared/manifests/videojs-m3u8-parser/versionInvalid.m3u8",
            env!("CARGO_MANIFEST_DIR")
        );
        let e = run(&bad, false).unwrap_err().to_string();
        assert!(e.contains("HLS line 3: EXT-X-VERSION"), "{e}");
    }
}
