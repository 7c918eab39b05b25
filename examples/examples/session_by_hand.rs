//! # Driving the engine by hand: `streamsteer::session::Session`
//!
//! The engine is sans-IO: it never opens a socket, reads a clock or spawns a thread.
//! A driver feeds it [`Event`]s stamped with the driver's own "now" and carries out
//! the [`Action`]s it returns: fetch this URL, cancel that request, append these bytes,
//! play, stall, wake me at *t*. The native player, the simulator, and the browser and
//! mobile bindings are all such loops; this example is the smallest complete one,
//! written the way you would start a driver for a platform the SDK does not cover yet:
//! blocking, single-threaded, with a tiny HTTP/1.1 client on `std::net::TcpStream`.
//!
//! It starts the test origin in-process on loopback (the 20 s demo ladder committed
//! in `origin/assets/demo`, no ffmpeg needed), plays its HLS stream (or DASH) in real
//! time, prints every action the engine asks for and every event fed back, and ends
//! with the QoE report.
//!
//! ```sh
//! cargo run -p streamsteer-examples --example session_by_hand          # HLS
//! cargo run -p streamsteer-examples --example session_by_hand -- dash
//! ```
//!
//! Takes about 20 s (the content plays in real time). Exits non-zero when the session
//! did not reach its end or played no media.

use std::collections::{HashMap, VecDeque};
use std::error::Error;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::ExitCode;
use std::time::Duration as StdDuration;
use streamsteer::manifest::{ByteRange, parse_any};
use streamsteer::session::{
    Action, Event, FetchKind, FetchRequest, PlayerEvent, PlayerState, RequestId, Session,
    SessionConfig,
};
use streamsteer::time::{Duration, Instant};
use streamsteer::uri::Url;
use streamsteer_origin::content::demo_asset_dir;
use streamsteer_origin::{Origin, OriginConfig, TraceSource};

/// Gives up if the session has not ended by then: the content is 20 s long, so this
/// only trips when something is wrong, and CI never hangs on it.
const RUN_LIMIT: StdDuration = StdDuration::from_secs(90);

/// The origin's link, kbit/s: the demo ladder's top rung (1 Mbit/s on average) and
/// its audio fit, with little to spare.
const LINK_KBPS: f64 = 1500.0;

type BoxError = Box<dyn Error + Send + Sync>;

/// Errors are printed as sentences rather than `Debug` dumps, with a failing status.
fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), BoxError> {
    let protocol = std::env::args().nth(1).unwrap_or_else(|| "hls".into());
    if !matches!(protocol.as_str(), "hls" | "dash") {
        return Err(format!("unknown protocol {protocol:?}: expected hls or dash").into());
    }

    // The origin is async (tokio + hyper). Its runtime serves on its own worker threads
    // while this thread runs the blocking driver: the engine cares about neither.
    let runtime = tokio::runtime::Runtime::new()?;
    let mut origin_config = OriginConfig::default();
    for pathway in &mut origin_config.pathways {
        // Around the top rung, so that fetches take real time and the rule decides
        // from measured throughput rather than from loopback's gigabits.
        pathway.trace = Some(TraceSource::ConstantKbps(LINK_KBPS));
    }
    let origin = runtime.block_on(Origin::start(demo_asset_dir(), origin_config))?;
    let manifest_url = if protocol == "dash" { origin.dash_url() } else { origin.hls_url() };

    let mut driver = Driver::new();
    let report = driver.play(&manifest_url)?;

    println!("\nQoE report:\n{}", serde_json::to_string_pretty(&report)?);
    if driver.state != PlayerState::Ended {
        return Err(format!("the session ended in {:?}, not Ended", driver.state).into());
    }
    if report.segments == 0 || driver.media_appended == 0 {
        return Err("no media segment was played".into());
    }
    println!(
        "\nplayed {} segments ({} media appends, {} fetches) in {:.1} s",
        report.segments,
        driver.media_appended,
        driver.fetches,
        driver.started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Everything a driver keeps beside the session: the clock's origin, requests waiting
/// to be made, bodies waiting for their `Append`, and the one timer.
struct Driver {
    started: std::time::Instant,
    /// Fetches asked for and not yet made (a blocking client makes one at a time).
    pending: VecDeque<FetchRequest>,
    /// The request being read, and whether the session cancelled it meanwhile.
    reading: Option<(RequestId, bool)>,
    /// Completed segment bodies, held only until the session says where they go.
    bodies: HashMap<RequestId, Vec<u8>>,
    /// The session's single timer: each `WakeAt` replaces the previous one.
    wake: Option<Instant>,
    state: PlayerState,
    media_appended: usize,
    fetches: usize,
}

impl Driver {
    fn new() -> Self {
        Self {
            started: std::time::Instant::now(),
            pending: VecDeque::new(),
            reading: None,
            bodies: HashMap::new(),
            wake: None,
            state: PlayerState::Loading,
            media_appended: 0,
            fetches: 0,
        }
    }

    /// The session's clock: any monotonic clock will do, as long as every event
    /// carries a reading of the same one. Microseconds since the driver started.
    fn now(&self) -> Instant {
        Instant(u64::try_from(self.started.elapsed().as_micros()).unwrap_or(u64::MAX))
    }

    fn stamp(&self) -> String {
        format!("{:7.3} s", self.started.elapsed().as_secs_f64())
    }

    fn play(&mut self, manifest_url: &str) -> Result<streamsteer::qoe::QoeReport, BoxError> {
        // 1. The multivariant playlist or MPD is the driver's to fetch: the session is
        //    built from the parsed presentation. Relative references resolve against
        //    the URL it was loaded from (after redirects, had there been any).
        let url = Url::parse(manifest_url)?;
        let response = http_get(&url, None, &mut |_, _| true)?;
        if response.status != 200 {
            return Err(format!("{url}: HTTP {}", response.status).into());
        }
        let text = String::from_utf8(response.body)
            .map_err(|_| format!("{url}: the manifest is not UTF-8 text"))?;
        let presentation = parse_any(&text, &url)?;
        println!(
            "{} loaded {url}: {:?}, pathways {:?}",
            self.stamp(),
            presentation.kind,
            presentation.pathways.iter().map(|p| p.id.as_str()).collect::<Vec<_>>()
        );

        let mut session = Session::new(presentation, SessionConfig::default())?;

        // 2. The first event starts it: with nothing to react to yet, a Tick.
        session.handle(self.now(), Event::Tick);

        // 3. The loop: carry out every action, then make the next fetch, else sleep
        //    until the session's timer. The session models the playhead itself (one
        //    second of media per second of its clock while playing), so a driver
        //    without a real media element needs nothing more.
        loop {
            self.drain(&mut session);
            if matches!(self.state, PlayerState::Ended | PlayerState::Failed) {
                break;
            }
            if self.started.elapsed() > RUN_LIMIT {
                return Err(format!("the session had not ended after {RUN_LIMIT:?}").into());
            }
            if self.wake.is_some_and(|t| t <= self.now()) {
                self.wake = None;
                session.handle(self.now(), Event::Tick);
                continue;
            }
            if let Some(request) = self.pending.pop_front() {
                self.fetch(&mut session, request);
                continue;
            }
            match self.wake {
                Some(t) => {
                    let wait = t.saturating_since(self.now());
                    std::thread::sleep(StdDuration::from_micros(wait.0));
                }
                // Nothing in flight and no timer: the session could only be woken by
                // a user action. It never leaves a driver there while loading or
                // playing, so this is a bug worth stopping on.
                None => return Err("the session is waiting for nothing".into()),
            }
        }
        Ok(session.qoe_report())
    }

    /// Carries out every action the session has queued.
    fn drain(&mut self, session: &mut Session<'_>) {
        while let Some(action) = session.poll_action() {
            match action {
                Action::Fetch(request) => {
                    println!(
                        "{} -> fetch #{} {:?} {}{}",
                        self.stamp(),
                        request.id,
                        request.kind,
                        request.url,
                        request.pathway.as_deref().map(|p| format!(" [{p}]")).unwrap_or_default()
                    );
                    self.pending.push_back(request);
                }
                Action::Cancel { id } => {
                    // Not made yet: drop it. Being read right now: `fetch` sees the mark
                    // and stops reading. Either way no more events go back for it.
                    println!("{} -> cancel #{id}", self.stamp());
                    self.pending.retain(|r| r.id != id);
                    if let Some((reading, cancelled)) = &mut self.reading
                        && *reading == id
                    {
                        *cancelled = true;
                    }
                    self.bodies.remove(&id);
                }
                Action::Append { track, init, request, segment, rendition, timing, .. } => {
                    // A real driver hands the bytes to its decoder or MSE SourceBuffer here;
                    // where `timing.new_timeline` says the media timestamps restart (a new
                    // period, an HLS discontinuity), it first sets the SourceBuffer's
                    // `timestampOffset` so that the segment lands at `timing.start_s`.
                    let Some(body) = self.bodies.remove(&request) else { continue };
                    let what = match (segment, timing) {
                        (Some(s), Some(t)) if !init => format!("segment {s} at {:.1} s", t.start_s),
                        _ => "init".to_string(),
                    };
                    println!(
                        "{} -> append {track:?} {what} (rung {rendition}, {} bytes, buffer {:.1} s)",
                        self.stamp(),
                        body.len(),
                        session.buffer_level_s()
                    );
                    if !init {
                        self.media_appended += 1;
                    }
                }
                Action::WakeAt(t) => self.wake = Some(t),
                Action::Emit(event) => self.on_player_event(event),
                // Play, Pause and Stall drive a media element's clock; this driver has
                // none (the session keeps the playhead), so it only shows them. The
                // catch-all also keeps a driver building when a later engine adds an
                // action.
                other => println!("{} -> {other:?}", self.stamp()),
            }
        }
    }

    /// What the session tells the application: printed here, shown in a UI by an app.
    fn on_player_event(&mut self, event: PlayerEvent) {
        let at = self.stamp();
        match event {
            PlayerEvent::StateChanged { from, to } => {
                self.state = to;
                println!("{at}    state {from:?} -> {to:?}");
            }
            PlayerEvent::Decision { track, segment, rendition, bitrate_kbps, reason } => {
                println!(
                    "{at}    decision: {track:?} segment {segment} at rung {rendition} \
                     ({bitrate_kbps:.0} kbit/s), {reason:?}"
                );
            }
            PlayerEvent::PathwayChanged { from, to, reason } => {
                println!("{at}    pathway {from:?} -> {to} ({reason:?})");
            }
            PlayerEvent::SteeringUpdated { priority } => {
                println!("{at}    steering priority {priority:?}");
            }
            // The report also comes as an event on Ended/Failed; `main` prints the
            // session's own copy.
            PlayerEvent::QoeReport { .. } => {}
            other => println!("{at}    {other:?}"),
        }
    }

    /// Makes one request and tells the session how it went.
    fn fetch(&mut self, session: &mut Session<'_>, request: FetchRequest) {
        let id = request.id;
        self.fetches += 1;
        self.reading = Some((id, false));
        // Progress reports let the session abandon a segment that arrives too slowly
        // for a lower rung; it answers with a `Cancel`, which `drain` records and the
        // read loop obeys.
        let mut on_progress = |bytes: u64, ttfb: StdDuration| {
            let now = self.now();
            if bytes == 0 {
                session.handle(now, Event::FetchStarted { id });
            }
            let ttfb = Some(Duration::from_secs_f64(ttfb.as_secs_f64()));
            session.handle(now, Event::FetchProgress { id, bytes, ttfb });
            self.drain(session);
            self.reading.is_none_or(|(_, cancelled)| !cancelled)
        };
        let result = http_get(&request.url, request.byte_range, &mut on_progress);
        if self.reading.take().is_some_and(|(_, cancelled)| cancelled) {
            return;
        }
        let now = self.now();
        let response = match result {
            Ok(r) => r,
            Err(e) => {
                println!("{} <- #{id} failed: {e}", self.stamp());
                let event = match request.kind {
                    FetchKind::Steering => {
                        Event::SteeringFailed { id, status: None, retry_after: None }
                    }
                    _ => Event::FetchFailed { id, status: None, bytes: 0 },
                };
                session.handle(now, event);
                return;
            }
        };
        println!(
            "{} <- #{id} HTTP {}, {} bytes in {:.0} ms",
            self.stamp(),
            response.status,
            response.body.len(),
            response.duration.as_secs_f64() * 1000.0
        );
        let ok = (200..300).contains(&response.status);
        let bytes = response.body.len() as u64;
        let event = match request.kind {
            FetchKind::Steering if ok => Event::SteeringLoaded {
                id,
                body: String::from_utf8_lossy(&response.body).into_owned(),
            },
            FetchKind::Steering => Event::SteeringFailed {
                id,
                status: Some(response.status),
                // 429 comes with the time to wait; the session schedules the next poll.
                retry_after: response
                    .retry_after
                    .as_deref()
                    .and_then(|v| streamsteer::http::parse_retry_after(v, unix_now_s())),
            },
            FetchKind::Manifest if ok => match String::from_utf8(response.body) {
                // This client follows no redirects, so the URL asked for is the base.
                Ok(text) => Event::ManifestLoaded { id, text, url: request.url.clone() },
                Err(_) => Event::FetchFailed { id, status: Some(response.status), bytes },
            },
            FetchKind::Init | FetchKind::Media if ok => {
                self.bodies.insert(id, response.body);
                Event::FetchCompleted {
                    id,
                    bytes,
                    ttfb: Duration::from_secs_f64(response.ttfb.as_secs_f64()),
                    duration: Duration::from_secs_f64(response.duration.as_secs_f64()),
                }
            }
            // A failed media fetch penalises its pathway: the session asks for the
            // same segment from the next one.
            _ => Event::FetchFailed { id, status: Some(response.status), bytes },
        };
        session.handle(now, event);
        // The `Append` for a wanted segment comes at once; a body the session did not
        // want (a late or abandoned fetch) must not linger.
        self.drain(session);
        self.bodies.remove(&id);
    }
}

fn unix_now_s() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// One HTTP response, read whole.
struct Response {
    status: u16,
    retry_after: Option<String>,
    body: Vec<u8>,
    /// From sending the request to the status line.
    ttfb: StdDuration,
    /// From sending the request to the last byte.
    duration: StdDuration,
}

/// Bodies larger than this are refused: a server must not be able to exhaust memory.
const MAX_BODY: u64 = 64 << 20;

/// A deliberately tiny HTTP/1.1 GET: plain `http`, one connection per request
/// (`Connection: close`), `Content-Length` or read-to-close bodies, no redirects, no
/// chunked encoding (the test origin always sends a length). `on_progress` is called
/// with the bytes received so far and the time to first byte, first with 0 bytes once
/// the headers are in; returning false abandons the response.
fn http_get(
    url: &Url,
    range: Option<ByteRange>,
    on_progress: &mut dyn FnMut(u64, StdDuration) -> bool,
) -> Result<Response, BoxError> {
    let u = url.as_url();
    if u.scheme() != "http" {
        return Err(format!("{url}: this example's client speaks plain http only").into());
    }
    let host = u.host_str().ok_or_else(|| format!("{url}: no host"))?;
    let port = u.port_or_known_default().unwrap_or(80);
    // Resolves names and takes IPv6 literals (`[::1]`) as they are written in URLs.
    let addr = u
        .socket_addrs(|| None)?
        .into_iter()
        .next()
        .ok_or_else(|| format!("{url}: {host} resolves to no address"))?;
    let sent = std::time::Instant::now();
    let mut stream = TcpStream::connect_timeout(&addr, StdDuration::from_secs(5))?;
    // A server that stops sending must not hang the driver.
    stream.set_read_timeout(Some(StdDuration::from_secs(10)))?;
    let target = match u.query() {
        Some(q) => format!("{}?{q}", u.path()),
        None => u.path().to_string(),
    };
    let mut head = format!("GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n");
    if let Some(value) = range.and_then(|r| r.http_range()) {
        head.push_str(&format!("Range: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;

    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    read_line(&mut reader, &mut line)?;
    let ttfb = sent.elapsed();
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| format!("{url}: not an HTTP response: {:?}", line.trim_end()))?;
    let mut length = None;
    let mut retry_after = None;
    let mut header_bytes = 0;
    loop {
        line.clear();
        header_bytes += read_line(&mut reader, &mut line)?;
        if header_bytes > 64 << 10 {
            return Err(format!("{url}: response headers over 64 KiB").into());
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        let Some((name, value)) = l.split_once(':') else { continue };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => {
                let n =
                    value.parse::<u64>().map_err(|_| format!("{url}: Content-Length {value:?}"))?;
                length = Some(n);
            }
            "retry-after" => retry_after = Some(value.to_string()),
            "transfer-encoding" if !value.eq_ignore_ascii_case("identity") => {
                return Err(format!("{url}: transfer-encoding {value} is not supported").into());
            }
            _ => {}
        }
    }
    if length.is_some_and(|n| n > MAX_BODY) {
        return Err(format!("{url}: body over {MAX_BODY} bytes").into());
    }
    if !on_progress(0, ttfb) {
        return Err("abandoned".into());
    }
    let mut body = Vec::with_capacity(length.unwrap_or(0) as usize);
    let mut chunk = [0u8; 16 << 10];
    loop {
        let want = match length {
            Some(n) => (n - body.len() as u64).min(chunk.len() as u64) as usize,
            None => chunk.len(),
        };
        if want == 0 {
            break;
        }
        let got = reader.read(&mut chunk[..want])?;
        if got == 0 {
            if length.is_some() {
                return Err(format!("{url}: connection closed after {} bytes", body.len()).into());
            }
            break;
        }
        body.extend_from_slice(&chunk[..got]);
        if body.len() as u64 > MAX_BODY {
            return Err(format!("{url}: body over {MAX_BODY} bytes").into());
        }
        if !on_progress(body.len() as u64, ttfb) {
            return Err("abandoned".into());
        }
    }
    Ok(Response { status, retry_after, body, ttfb, duration: sent.elapsed() })
}

/// One header line, at most 8 KiB: a server sending an endless line must not grow
/// memory without bound.
fn read_line(reader: &mut BufReader<TcpStream>, line: &mut String) -> Result<usize, BoxError> {
    let n = reader.by_ref().take(8 << 10).read_line(line)?;
    if n > 0 && !line.ends_with('\n') {
        return Err("a response header line over 8 KiB, or cut short".into());
    }
    Ok(n)
}
