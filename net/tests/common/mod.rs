//! A small loopback origin for the driver's tests: serves the committed CMAF fixture
//! (`tests/fixtures/cmaf/`) as HLS, with HLS playlists written from its
//! `content.json`, a fault schedule per path, and a log of every request (path,
//! query, CMCD headers, HTTP version, peer).

#![allow(dead_code)]

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, StatusCode, Version, header};
use axum::response::Response;
use bytes::Bytes;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What `content.json` says (the parts the playlists need).
#[derive(Debug, Clone, Deserialize)]
pub struct Content {
    pub video: Vec<Rendition>,
    pub audio: Rendition,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Rendition {
    pub id: String,
    pub bandwidth_bps: u64,
    pub codecs: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub init: String,
    pub segments: Vec<Segment>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Segment {
    pub path: String,
    pub bytes: u64,
    pub start_s: f64,
    pub duration_s: f64,
}

pub fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/cmaf")
}

pub fn content() -> Content {
    let text = std::fs::read_to_string(fixture_dir().join("content.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn media_playlist(r: &Rendition) -> String {
    let dir = r.init.rsplit_once('/').map_or("", |x| x.0);
    let name = |p: &str| p.strip_prefix(dir).unwrap_or(p).trim_start_matches('/').to_string();
    let target = r.segments.iter().map(|s| s.duration_s.round() as u64).max().unwrap_or(1);
    let mut s = format!(
        "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:{target}\n#EXT-X-MEDIA-SEQUENCE:0\n\
         #EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-MAP:URI=\"{}\"\n",
        name(&r.init)
    );
    for seg in &r.segments {
        s.push_str(&format!("#EXTINF:{:.6},\n{}\n", seg.duration_s, name(&seg.path)));
    }
    s.push_str("#EXT-X-ENDLIST\n");
    s
}

fn playlist_path(r: &Rendition) -> String {
    let dir = r.init.rsplit_once('/').map_or("", |x| x.0);
    format!("{dir}/index.m3u8")
}

fn master_playlist(c: &Content) -> String {
    let a = &c.audio;
    let mut s = format!(
        "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n\
         #EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aud\",NAME=\"{}\",DEFAULT=YES,AUTOSELECT=YES,URI=\"{}\"\n",
        a.id,
        playlist_path(a)
    );
    for v in &c.video {
        s.push_str(&format!(
            "#EXT-X-STREAM-INF:BANDWIDTH={},CODECS=\"{},{}\",RESOLUTION={}x{},AUDIO=\"aud\"\n{}\n",
            v.bandwidth_bps + a.bandwidth_bps,
            v.codecs,
            a.codecs,
            v.width.unwrap_or(0),
            v.height.unwrap_or(0),
            playlist_path(v)
        ));
    }
    s
}

/// A fault applied to the next requests whose path contains a pattern.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer with this status and an empty body.
    Status(u16),
    /// Announce the full length, send this share of the body, then break the connection.
    Truncate(f64),
    /// Never answer (the handler is dropped when the client gives up).
    Hang,
    /// Answer after this delay.
    Delay(Duration),
    /// Replace the body with these bytes (a corrupt segment).
    Garbage(Vec<u8>),
}

#[derive(Debug, Clone)]
struct Rule {
    pattern: String,
    fault: Fault,
    remaining: usize,
}

/// One request as the origin saw it.
#[derive(Debug, Clone)]
pub struct Logged {
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub version: Version,
    pub peer: SocketAddr,
    pub status: u16,
}

#[derive(Default)]
pub struct OriginState {
    rules: Mutex<Vec<Rule>>,
    log: Mutex<Vec<Logged>>,
    /// Handlers of hanging requests that were dropped (the client went away).
    pub abandoned: AtomicUsize,
    /// Hanging requests received.
    pub hanging: AtomicUsize,
}

pub struct Origin {
    pub addr: SocketAddr,
    pub state: Arc<OriginState>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Origin {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Origin {
    pub async fn start() -> Origin {
        let state = Arc::new(OriginState::default());
        let app = Router::new().fallback(serve).with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
                .await;
        });
        Origin { addr, state, task }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}/{}", self.addr, path.trim_start_matches('/'))
    }

    /// Applies `fault` to the next `times` requests whose path contains `pattern`.
    pub fn fault(&self, pattern: &str, fault: Fault, times: usize) {
        self.state.rules.lock().unwrap().push(Rule {
            pattern: pattern.to_string(),
            fault,
            remaining: times,
        });
    }

    pub fn log(&self) -> Vec<Logged> {
        self.state.log.lock().unwrap().clone()
    }
}

struct HangGuard(Arc<OriginState>);

impl Drop for HangGuard {
    fn drop(&mut self) {
        self.0.abandoned.fetch_add(1, Ordering::SeqCst);
    }
}

async fn serve(
    State(state): State<Arc<OriginState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
) -> Response {
    let path = req.uri().path().to_string();
    let fault = {
        let mut rules = state.rules.lock().unwrap();
        rules.iter_mut().find(|r| r.remaining > 0 && path.contains(&r.pattern)).map(|r| {
            r.remaining -= 1;
            r.fault.clone()
        })
    };
    let body = content_of(&path);
    let (status, body) = match (&fault, body) {
        (Some(Fault::Status(s)), _) => (*s, Some(Bytes::new())),
        (_, None) => (404, None),
        (_, Some(b)) => (200, Some(b)),
    };
    let headers = req.headers().clone();
    state.log.lock().unwrap().push(Logged {
        path: path.clone(),
        query: req.uri().query().map(str::to_string),
        headers: req.headers().clone(),
        version: req.version(),
        peer,
        status,
    });
    let Some(body) = body else {
        return Response::builder().status(404).body(Body::empty()).unwrap();
    };
    let ok = |b: Body, len: usize| {
        Response::builder()
            .status(StatusCode::from_u16(status).unwrap())
            .header(header::CONTENT_LENGTH, len)
            .body(b)
            .unwrap()
    };
    match fault {
        Some(Fault::Status(_)) => ok(Body::empty(), 0),
        Some(Fault::Hang) => {
            state.hanging.fetch_add(1, Ordering::SeqCst);
            let _guard = HangGuard(state.clone());
            std::future::pending::<()>().await;
            unreachable!()
        }
        Some(Fault::Delay(d)) => {
            tokio::time::sleep(d).await;
            ok(Body::from(body.clone()), body.len())
        }
        Some(Fault::Truncate(share)) => {
            let cut = ((body.len() as f64) * share) as usize;
            let part = body.slice(..cut);
            // The head and the first part go out; then the connection breaks.
            let stream = futures_util::stream::unfold(0u8, move |step| {
                let part = part.clone();
                async move {
                    match step {
                        0 => Some((Ok::<Bytes, std::io::Error>(part), 1)),
                        1 => {
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            let e = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "cut");
                            Some((Err(e), 2))
                        }
                        _ => None,
                    }
                }
            });
            ok(Body::from_stream(stream), body.len())
        }
        Some(Fault::Garbage(g)) => {
            let len = g.len();
            ok(Body::from(g), len)
        }
        None => match parse_range(&headers).filter(|_| path.starts_with("/ranged/")) {
            Some((a, b)) if a <= b && b < body.len() => {
                let part = body.slice(a..=b);
                Response::builder()
                    .status(StatusCode::PARTIAL_CONTENT)
                    .header(header::CONTENT_LENGTH, part.len())
                    .header(header::CONTENT_RANGE, format!("bytes {a}-{b}/{}", body.len()))
                    .body(Body::from(part))
                    .unwrap()
            }
            _ => ok(Body::from(body.clone()), body.len()),
        },
    }
}

/// Rung `v0` as one resource, `init + seg_0 + … + seg_n` (what `ranged/v0/all.mp4` serves).
pub fn single_file() -> (Vec<u8>, Vec<(u64, u64)>) {
    let c = content();
    let v = &c.video[0];
    let mut all = std::fs::read(fixture_dir().join(&v.init)).unwrap();
    let mut ranges = vec![(0, all.len() as u64)];
    for seg in &v.segments {
        let bytes = std::fs::read(fixture_dir().join(&seg.path)).unwrap();
        ranges.push((all.len() as u64, bytes.len() as u64));
        all.extend_from_slice(&bytes);
    }
    (all, ranges)
}

/// A VOD HLS stream of rung `v0` alone whose segments are byte ranges of one file.
fn ranged_playlists(rel: &str) -> Option<Bytes> {
    let c = content();
    let v = &c.video[0];
    match rel {
        "master.m3u8" => Some(Bytes::from(format!(
            "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-STREAM-INF:BANDWIDTH={},CODECS=\"{}\",RESOLUTION={}x{}\nv0/index.m3u8\n",
            v.bandwidth_bps,
            v.codecs,
            v.width.unwrap_or(0),
            v.height.unwrap_or(0)
        ))),
        "v0/index.m3u8" => {
            let (_, ranges) = single_file();
            let mut s = format!(
                "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:0\n\
                 #EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-MAP:URI=\"all.mp4\",BYTERANGE=\"{}@0\"\n",
                ranges[0].1
            );
            for (seg, (off, len)) in v.segments.iter().zip(&ranges[1..]) {
                s.push_str(&format!(
                    "#EXTINF:{:.6},\n#EXT-X-BYTERANGE:{len}@{off}\nall.mp4\n",
                    seg.duration_s
                ));
            }
            s.push_str("#EXT-X-ENDLIST\n");
            Some(Bytes::from(s))
        }
        "v0/all.mp4" => Some(Bytes::from(single_file().0)),
        _ => None,
    }
}

/// `Range: bytes=a-b` as (a, b), inclusive.
fn parse_range(headers: &HeaderMap) -> Option<(usize, usize)> {
    let v = headers.get(header::RANGE)?.to_str().ok()?.strip_prefix("bytes=")?;
    let (a, b) = v.split_once('-')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

pub fn content_of(path: &str) -> Option<Bytes> {
    let rel = path.trim_start_matches('/');
    // `ranged/…` honours Range; `unranged/…` serves the same stream ignoring it.
    if let Some(r) = rel.strip_prefix("ranged/").or_else(|| rel.strip_prefix("unranged/")) {
        return ranged_playlists(r);
    }
    let c = content();
    if rel == "master.m3u8" {
        return Some(Bytes::from(master_playlist(&c)));
    }
    for r in c.video.iter().chain(std::iter::once(&c.audio)) {
        if rel == playlist_path(r) {
            return Some(Bytes::from(media_playlist(r)));
        }
    }
    if rel.contains("..") {
        return None;
    }
    std::fs::read(fixture_dir().join(rel)).ok().map(Bytes::from)
}
