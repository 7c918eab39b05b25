//! Hostile HTTP behaviours against the native driver: redirects off the allowlist, to
//! local files, through backslash hosts, in loops; bodies that never end or announce
//! terabytes, for every request kind. Each ends in a typed error, promptly, without
//! reading more than the limit or contacting a host it should not.

mod common;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header;
use axum::response::Response;
use bytes::Bytes;
use futures_util::StreamExt;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use streamsteer::allowlist::HostAllowlist;
use streamsteer::session::{FetchKind, PlayerEvent, PlayerState};
use streamsteer::uri::Url;
use streamsteer_net::fetch::{FetchError, fetch_document};
use streamsteer_net::{Event, Player, PlayerConfig, build_client};
use tokio::time::timeout;

/// Every test ends well within this, or something hangs.
const LIMIT: Duration = Duration::from_secs(30);

/// What the hostile server saw: (Host header, path).
type Seen = Arc<Mutex<Vec<(String, String)>>>;

struct Hostile {
    port: u16,
    seen: Seen,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Hostile {
    async fn start() -> Hostile {
        let seen: Seen = Arc::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let app = Router::new().fallback(serve).with_state((seen.clone(), port));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Hostile { port, seen, task }
    }

    fn url(&self, path: &str) -> Url {
        Url::parse(&format!("http://127.0.0.1:{}/{path}", self.port)).unwrap()
    }

    fn seen(&self) -> Vec<(String, String)> {
        self.seen.lock().unwrap().clone()
    }
}

fn redirect(to: &str) -> Response {
    Response::builder().status(302).header(header::LOCATION, to).body(Body::empty()).unwrap()
}

fn ok(body: impl Into<Bytes>) -> Response {
    let body: Bytes = body.into();
    Response::builder()
        .status(200)
        .header(header::CONTENT_LENGTH, body.len())
        .body(Body::from(body))
        .unwrap()
}

/// A body that never ends (no Content-Length).
fn endless() -> Response {
    let chunk = Bytes::from(vec![b'#'; 64 * 1024]);
    let stream = futures_util::stream::repeat_with(move || Ok::<_, std::io::Error>(chunk.clone()));
    Response::builder().status(200).body(Body::from_stream(stream)).unwrap()
}

/// The fixture's multivariant playlist with `extra` lines after `#EXTM3U`.
fn master_with(extra: &str) -> String {
    let m = String::from_utf8(common::content_of("/master.m3u8").unwrap().to_vec()).unwrap();
    m.replacen("#EXTM3U\n", &format!("#EXTM3U\n{extra}"), 1)
}

async fn serve(State((seen, port)): State<(Seen, u16)>, req: Request) -> Response {
    let host = req.headers().get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    let path = req.uri().path().to_string();
    seen.lock().unwrap().push((host.to_string(), path.clone()));
    let rel = path.trim_start_matches('/');
    if let Some(rest) = rel.strip_prefix("hop/") {
        // `hop/<n>/<path>`: n more redirects (relative Locations), then the content.
        let (n, tail) = rest.split_once('/').unwrap_or((rest, ""));
        return match n.parse::<u32>() {
            Ok(0) => common::content_of(tail).map_or_else(|| ok("missing"), ok),
            Ok(n) => redirect(&format!("/hop/{}/{tail}", n - 1)),
            Err(_) => ok("bad hop"),
        };
    }
    match rel {
        "loop.m3u8" => redirect("loop.m3u8"),
        // `localhost` is this same server under another name: off a 127.0.0.1 allowlist.
        "away.m3u8" => redirect(&format!("http://localhost:{port}/hop/0/master.m3u8")),
        "backslash.m3u8" => redirect(&format!("http://evil.example\\@127.0.0.1:{port}/x")),
        "file.m3u8" => redirect("file:///etc/passwd"),
        "userinfo.m3u8" => redirect(&format!("http://127.0.0.1@localhost:{port}/x")),
        "moved/master.m3u8" => redirect("/hop/0/master.m3u8"),
        "endless.m3u8" => endless(),
        "huge-length.m3u8" => {
            // A terabyte announced; a few bytes, then nothing.
            let head = futures_util::stream::once(async {
                Ok::<_, std::io::Error>(Bytes::from_static(b"#EXTM3U\n"))
            });
            Response::builder()
                .status(200)
                .header(header::CONTENT_LENGTH, 1u64 << 40)
                .body(Body::from_stream(head.chain(futures_util::stream::pending())))
                .unwrap()
        }
        "steering-endless/master.m3u8" => {
            ok(master_with("#EXT-X-CONTENT-STEERING:SERVER-URI=\"/endless-steering.json\"\n"))
        }
        "endless-steering.json" => endless(),
        _ => {
            if let Some(tail) = rel.strip_prefix("steering-endless/") {
                return common::content_of(tail).map_or_else(|| ok("missing"), ok);
            }
            // `fat/…` serves the fixture's playlists, but every segment never ends.
            if let Some(tail) = rel.strip_prefix("fat/") {
                if tail.ends_with(".m3u8") {
                    return common::content_of(tail).map_or_else(|| ok("missing"), ok);
                }
                return endless();
            }
            common::content_of(rel).map_or_else(|| ok("missing"), ok)
        }
    }
}

/// The limit a `TooLarge` message names ("body over the N-byte limit …").
fn limit_in(error: &str) -> u64 {
    let n = error.split("body over the ").nth(1).and_then(|r| r.split('-').next());
    n.and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("not a size error: {error}"))
}

fn quick(mut c: PlayerConfig) -> PlayerConfig {
    c.session.retry_base_s = 0.05;
    c.session.retry_max_s = 0.1;
    for p in [&mut c.net.manifest, &mut c.net.init, &mut c.net.media, &mut c.net.steering] {
        p.retry.max_attempts = 1;
        p.total_timeout_s = 20.0;
    }
    c
}

async fn fetch(config: &PlayerConfig, url: &Url) -> Result<Url, FetchError> {
    let client = build_client(config).unwrap();
    timeout(LIMIT, fetch_document(&client, config, url)).await.expect("no hang").map(|d| d.url)
}

#[tokio::test]
async fn redirects_are_followed_only_within_the_rules() {
    let s = Hostile::start().await;
    let mut config = quick(PlayerConfig::default());
    config.session.allowed_hosts = HostAllowlist::only(["127.0.0.1"]);
    config.net.max_redirects = 5;

    // Within the limit: followed, and the final URL is where the body came from.
    let final_url = fetch(&config, &s.url("hop/5/master.m3u8")).await.unwrap();
    assert!(final_url.ends_with("/hop/0/master.m3u8"), "{final_url}");
    // Past it, and in a loop: a typed error, not endless requests.
    let e = fetch(&config, &s.url("hop/6/master.m3u8")).await.unwrap_err();
    assert_eq!(e, FetchError::TooManyRedirects(5));
    let before = s.seen().len();
    let e = fetch(&config, &s.url("loop.m3u8")).await.unwrap_err();
    assert_eq!(e, FetchError::TooManyRedirects(5));
    assert_eq!(s.seen().len() - before, 6, "the first request and five redirects");

    // Off the allowlist, through a backslash, to a local file, with user info: refused
    // without a request to the target.
    for (path, why) in [
        ("away.m3u8", "not an allowed host"),
        ("backslash.m3u8", "a backslash"),
        ("file.m3u8", "may not name a local file"),
        ("userinfo.m3u8", "user information"),
    ] {
        let before = s.seen().len();
        match fetch(&config, &s.url(path)).await {
            Err(FetchError::RedirectRefused { reason, .. }) => {
                assert!(reason.contains(why), "{path}: {reason}")
            }
            other => panic!("{path}: {other:?}"),
        }
        assert_eq!(s.seen().len() - before, 1, "{path}: only the redirecting request");
    }
    assert!(s.seen().iter().all(|(host, _)| host.starts_with("127.0.0.1")), "{:?}", s.seen());

    // The same redirect is followed when the allowlist admits the other name.
    config.session.allowed_hosts = HostAllowlist::only(["127.0.0.1", "localhost"]);
    let final_url = fetch(&config, &s.url("away.m3u8")).await.unwrap();
    assert!(final_url.starts_with("http://localhost:"), "{final_url}");
}

#[tokio::test]
async fn a_redirected_playlist_resolves_against_its_final_url() {
    let s = Hostile::start().await;
    let mut player =
        Player::load(s.url("moved/master.m3u8").as_str(), quick(PlayerConfig::default()))
            .await
            .unwrap();
    assert!(player.presentation().url.ends_with("/hop/0/master.m3u8"));
    let outcome = timeout(LIMIT, player.wait_until_done()).await.expect("no hang").unwrap();
    assert_eq!(outcome.state, PlayerState::Ended, "{:?}", outcome.error);
    // Everything after the redirect came from under its target.
    let seen = s.seen();
    let after: Vec<&String> = seen.iter().skip(2).map(|(_, p)| p).collect();
    assert!(after.len() > 4, "{after:?}");
    assert!(after.iter().all(|p| p.starts_with("/hop/0/")), "{after:?}");
}

#[tokio::test]
async fn manifest_bodies_over_their_limit_fail_fast() {
    let s = Hostile::start().await;
    let mut config = quick(PlayerConfig::default());
    config.net.limits.manifest_bytes = 256 * 1024;
    let started = std::time::Instant::now();
    let e = fetch(&config, &s.url("endless.m3u8")).await.unwrap_err();
    assert_eq!(e, FetchError::TooLarge { limit: 256 * 1024 });
    let e = fetch(&config, &s.url("huge-length.m3u8")).await.unwrap_err();
    assert_eq!(e, FetchError::TooLarge { limit: 256 * 1024 });
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
    // The player reports it as a failed load, with the reason.
    let e = Player::load(s.url("endless.m3u8").as_str(), config).await.unwrap_err();
    assert!(e.to_string().contains("262144-byte limit"), "{e}");
}

#[tokio::test]
async fn media_and_steering_bodies_over_their_limit_are_typed_failures() {
    let s = Hostile::start().await;
    let config = quick(PlayerConfig::default());
    let mut config = config;
    config.net.limits.init_bytes = 1024 * 1024;
    let limits = config.net.limits.clone();

    // Segments that never end: each attempt stops at its limit (4 × the expected size
    // + 1 MiB at most), the session fails over and retries, then gives up.
    let mut player = Player::load(s.url("fat/master.m3u8").as_str(), config.clone()).await.unwrap();
    let mut rx = player.events();
    let outcome = timeout(LIMIT, player.wait_until_done()).await.expect("no hang").unwrap();
    assert_eq!(outcome.state, PlayerState::Failed);
    let mut media = 0;
    while let Ok(e) = rx.try_recv() {
        if let Event::Request(t) = e
            && matches!(t.kind, FetchKind::Media | FetchKind::Init)
        {
            let error = t.error.unwrap_or_default();
            let limit = limit_in(&error);
            assert!(t.bytes <= limit, "{} bytes read under a {limit}-byte limit", t.bytes);
            let cap =
                if t.kind == FetchKind::Init { limits.init_bytes } else { limits.media_bytes };
            assert!(limit <= cap, "{error}");
            media += 1;
        }
    }
    assert!(media >= 2, "{media} failed segment requests");

    // A steering server whose answer never ends: a steering error, playback goes on.
    let mut player =
        Player::load(s.url("steering-endless/master.m3u8").as_str(), config).await.unwrap();
    let mut rx = player.events();
    let outcome = timeout(LIMIT, player.wait_until_done()).await.expect("no hang").unwrap();
    assert_eq!(outcome.state, PlayerState::Ended, "{:?}", outcome.error);
    let mut steering_errors = 0;
    let mut steering_too_large = 0;
    while let Ok(e) = rx.try_recv() {
        match e {
            Event::Request(t) if t.kind == FetchKind::Steering => {
                let error = t.error.unwrap_or_default();
                assert!(
                    error.contains(&format!("{}-byte limit", limits.steering_bytes)),
                    "{error}"
                );
                assert!(t.bytes <= limits.steering_bytes);
                steering_too_large += 1;
            }
            Event::Player { event: PlayerEvent::SteeringError { .. } } => steering_errors += 1,
            _ => {}
        }
    }
    assert!(steering_too_large >= 1 && steering_errors >= 1);
}
