//! One request in, one response out: resolve the path, apply the listener's latency
//! and fault schedule, honour byte ranges, and hand the body to [`crate::body`].

use crate::body::{self, BodyPlan, LogGuard};
use crate::connection::{ConnControl, Cut};
use crate::faults::{self, Fault, FaultKind, RequestKind};
use crate::log::RequestLogEntry;
use crate::manifests;
use crate::on_demand;
use crate::paths::{Resource, SteeringProtocol, Stream};
use crate::renditions;
use crate::server::{ListenerState, Role, Shared};
use crate::steering_server::SteeringAnswer;
use axum::body::Body;
use bytes::Bytes;
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use streamsteer::utc_timing;
use tokio::time::Instant;

/// A resolved resource: status, content type, extra headers, bytes.
struct Prepared {
    status: StatusCode,
    content_type: &'static str,
    headers: Vec<(header::HeaderName, String)>,
    data: Bytes,
    /// Byte ranges apply (init and media segments).
    ranged: bool,
}

impl Prepared {
    fn text(status: StatusCode, msg: &str) -> Self {
        Prepared {
            status,
            content_type: "text/plain; charset=utf-8",
            headers: Vec::new(),
            data: Bytes::from(format!("{msg}\n")),
            ranged: false,
        }
    }

    fn manifest(content_type: &'static str, text: String) -> Self {
        Prepared {
            status: StatusCode::OK,
            content_type,
            headers: vec![(header::CACHE_CONTROL, "no-cache".into())],
            data: Bytes::from(text),
            ranged: false,
        }
    }

    fn media(content_type: &'static str, data: Bytes) -> Self {
        Prepared { status: StatusCode::OK, content_type, headers: Vec::new(), data, ranged: true }
    }
}

const HLS_TYPE: &str = "application/vnd.apple.mpegurl";
const MPD_TYPE: &str = "application/dash+xml";

fn mp4_type(shared: &Shared, rid: &str) -> &'static str {
    if shared.info().audio.id == rid { "audio/mp4" } else { "video/mp4" }
}

/// Serves `resource` as of now.
fn resolve(shared: &Shared, state: &ListenerState, resource: &Resource) -> Prepared {
    let info = shared.info();
    let not_found = || Prepared::text(StatusCode::NOT_FOUND, "not found");
    let segments_here = state.role == Role::Pathway;
    match resource {
        Resource::Multivariant(stream) => {
            Prepared::manifest(HLS_TYPE, manifests::hls_multivariant(info, &shared.site, *stream))
        }
        Resource::Mpd(Stream::Vod) => Prepared::manifest(
            MPD_TYPE,
            manifests::dash_static(info, &shared.site, &shared.timescales),
        ),
        Resource::Mpd(Stream::Live) => Prepared::manifest(
            MPD_TYPE,
            manifests::dash_dynamic(
                info,
                &shared.site,
                &shared.timescales,
                &shared.timeline,
                shared.clock_unix_s(),
            ),
        ),
        Resource::OnDemandMpd => Prepared::manifest(
            MPD_TYPE,
            on_demand::mpd(info, &shared.site, &shared.timescales, &shared.store.on_demand),
        ),
        Resource::PeriodsMpd => Prepared::manifest(
            MPD_TYPE,
            manifests::dash_periods(info, &shared.site, &shared.timescales),
        ),
        Resource::DiscontinuityMultivariant => Prepared::manifest(
            HLS_TYPE,
            manifests::hls_discontinuity_multivariant(info, &shared.site),
        ),
        Resource::DiscontinuityPlaylist(rid) => manifests::hls_discontinuity_media(info, rid)
            .map(|t| Prepared::manifest(HLS_TYPE, t))
            .unwrap_or_else(not_found),
        Resource::OnDemandFile(rid) if segments_here => match shared.store.on_demand.get(rid) {
            Some(f) => Prepared::media(mp4_type(shared, rid), f.data.clone()),
            None => not_found(),
        },
        Resource::TemplateMpd => Prepared::manifest(
            MPD_TYPE,
            manifests::dash_dynamic_template(
                info,
                &shared.site,
                &shared.timescales,
                &shared.timeline,
                shared.clock_unix_s(),
            ),
        ),
        Resource::Time => {
            let now = shared.clock_unix_s();
            Prepared {
                status: StatusCode::OK,
                content_type: "text/plain; charset=utf-8",
                headers: vec![
                    (header::CACHE_CONTROL, "no-store".into()),
                    (header::DATE, utc_timing::format_http_date(now)),
                ],
                data: Bytes::from(utc_timing::format_date_time(now)),
                ranged: false,
            }
        }
        Resource::MediaPlaylist(Stream::Vod, rid) => manifests::hls_media_vod(info, rid)
            .map(|t| Prepared::manifest(HLS_TYPE, t))
            .unwrap_or_else(not_found),
        Resource::MediaPlaylist(Stream::Live, rid) => {
            let live_s = shared.timeline.live_s(shared.clock_unix_s());
            manifests::hls_media_live(info, &shared.timeline, rid, live_s)
                .map(|t| Prepared::manifest(HLS_TYPE, t))
                .unwrap_or_else(not_found)
        }
        Resource::Init(_, rid) if segments_here => match shared.store.renditions.get(rid) {
            Some(r) => Prepared::media(mp4_type(shared, rid), r.init.clone()),
            None => not_found(),
        },
        Resource::Segment(Stream::Vod, rid, n) if segments_here => {
            match shared.store.renditions.get(rid).and_then(|r| r.segments.get(*n as usize)) {
                Some(data) => Prepared::media(mp4_type(shared, rid), data.clone()),
                None => not_found(),
            }
        }
        Resource::Segment(Stream::Live, rid, n) if segments_here => {
            live_segment(shared, rid, *n).unwrap_or_else(not_found)
        }
        Resource::Steering(protocol) => {
            let self_url = format!("{}{}", state.base_url, crate::paths::steering(*protocol));
            match shared.steering.answer(shared.elapsed_s(), &self_url) {
                SteeringAnswer::Manifest(json) => Prepared {
                    status: StatusCode::OK,
                    content_type: match protocol {
                        SteeringProtocol::Hls => "application/vnd.apple.steering-list",
                        SteeringProtocol::Dash => "application/json",
                    },
                    headers: vec![(header::CACHE_CONTROL, "no-store".into())],
                    data: Bytes::from(json),
                    ranged: false,
                },
                SteeringAnswer::Gone => Prepared::text(StatusCode::GONE, "steering is over"),
                SteeringAnswer::TooManyRequests(s) => {
                    let mut p = Prepared::text(StatusCode::TOO_MANY_REQUESTS, "slow down");
                    p.headers.push((header::RETRY_AFTER, s.to_string()));
                    p
                }
            }
        }
        Resource::Init(..) | Resource::Segment(..) | Resource::OnDemandFile(_) => not_found(),
    }
}

/// Live segment `n` of `rid`: 404 until it has ended on the live clock.
fn live_segment(shared: &Shared, rid: &str, n: u64) -> Option<Prepared> {
    let r = renditions::find(shared.info(), rid)?;
    let stored = shared.store.renditions.get(rid)?;
    let live_s = shared.timeline.live_s(shared.clock_unix_s());
    if !shared.timeline.is_available(&r, n, live_s) {
        return None;
    }
    let seg = shared.timeline.segment(&r, n)?;
    let file = stored.segments.get(seg.file_index)?;
    match shared.timeline.rewrite(file, &seg, stored.timescale) {
        Ok(bytes) => Some(Prepared::media(mp4_type(shared, rid), Bytes::from(bytes))),
        Err(e) => {
            tracing::error!(rendition = rid, number = n, error = %e, "live rewrite failed");
            Some(Prepared::text(StatusCode::INTERNAL_SERVER_ERROR, "live rewrite failed"))
        }
    }
}

/// A single `bytes=` range resolved against `len`.
#[derive(Debug, PartialEq, Eq)]
enum RangeAnswer {
    /// Serve everything (no range, or one we do not handle, e.g. several ranges).
    Full,
    /// Serve `[first, last]`.
    Part(usize, usize),
    /// 416.
    Unsatisfiable,
}

fn parse_range(value: &str, len: usize) -> RangeAnswer {
    let Some(spec) = value.trim().strip_prefix("bytes=") else { return RangeAnswer::Full };
    if spec.contains(',') {
        return RangeAnswer::Full;
    }
    let Some((a, b)) = spec.trim().split_once('-') else { return RangeAnswer::Full };
    let (a, b) = (a.trim(), b.trim());
    let num = |s: &str| s.parse::<u64>().ok().map(|v| usize::try_from(v).unwrap_or(usize::MAX));
    match (a.is_empty(), b.is_empty()) {
        // Suffix: the last `b` bytes.
        (true, false) => match num(b) {
            Some(0) => RangeAnswer::Unsatisfiable,
            Some(n) if len > 0 => RangeAnswer::Part(len.saturating_sub(n), len - 1),
            Some(_) => RangeAnswer::Unsatisfiable,
            None => RangeAnswer::Full,
        },
        (false, _) => {
            let Some(first) = num(a) else { return RangeAnswer::Full };
            let last = if b.is_empty() { Some(usize::MAX) } else { num(b) };
            match last {
                None => RangeAnswer::Full,
                Some(last) if last < first => RangeAnswer::Full,
                Some(_) if first >= len => RangeAnswer::Unsatisfiable,
                Some(last) => RangeAnswer::Part(first, last.min(len - 1)),
            }
        }
        (true, true) => RangeAnswer::Full,
    }
}

fn query_map(query: Option<&str>) -> BTreeMap<String, String> {
    query.map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default()
}

fn fraction_at(len: usize, f: f64) -> usize {
    let f = if f.is_finite() { f.clamp(0.0, 1.0) } else { 0.0 };
    ((len as f64) * f).floor() as usize
}

/// Request headers a cross-origin player may send: byte ranges and CMCD in header mode.
const CORS_REQUEST_HEADERS: &str = "Range, CMCD-Request, CMCD-Object, CMCD-Status, CMCD-Session";

/// Handles one request.
pub async fn respond(
    shared: Arc<Shared>,
    state: Arc<ListenerState>,
    conn: Arc<ConnControl>,
    req: Request<Incoming>,
) -> Response<Body> {
    let arrived = Instant::now();
    let t_s = shared.elapsed_s();
    let counter = state.counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query = query_map(req.uri().query());
    let range_header =
        req.headers().get(header::RANGE).and_then(|v| v.to_str().ok()).map(str::to_string);
    let resource = Resource::parse(&path);
    let kind: Option<RequestKind> = resource.as_ref().map(Resource::kind);
    if let Some(Resource::Steering(p)) = &resource {
        let (pw, tp) = match p {
            SteeringProtocol::Hls => ("_HLS_pathway", "_HLS_throughput"),
            SteeringProtocol::Dash => ("_DASH_pathway", "_DASH_throughput"),
        };
        tracing::info!(
            listener = %state.name,
            pathway = query.get(pw).map(String::as_str).unwrap_or(""),
            throughput = query.get(tp).map(String::as_str).unwrap_or(""),
            "steering request"
        );
    }
    let entry = RequestLogEntry {
        t_s,
        pathway: state.name.clone(),
        method: method.to_string(),
        path,
        query,
        range: range_header.clone(),
        kind,
        status: 0,
        bytes_sent: 0,
        content_length: 0,
        duration_s: 0.0,
        fault: None,
        complete: false,
    };

    if !state.latency.is_zero() {
        tokio::time::sleep(state.latency).await;
    }
    let fault: Option<Fault> = kind.and_then(|k| {
        faults::choose(&state.faults, t_s, k, shared.seed, state.index, counter).cloned()
    });

    let mut prepared = if method == Method::OPTIONS {
        // A CORS preflight: a page on another origin may send Range and CMCD headers.
        let mut p = Prepared::text(StatusCode::NO_CONTENT, "");
        p.data = Bytes::new();
        p.headers.push((header::ACCESS_CONTROL_ALLOW_METHODS, "GET, HEAD".into()));
        p.headers.push((header::ACCESS_CONTROL_ALLOW_HEADERS, CORS_REQUEST_HEADERS.into()));
        p.headers.push((header::ACCESS_CONTROL_MAX_AGE, "600".into()));
        p
    } else if method != Method::GET && method != Method::HEAD {
        let mut p = Prepared::text(StatusCode::METHOD_NOT_ALLOWED, "GET or HEAD only");
        p.headers.push((header::ALLOW, "GET, HEAD".into()));
        p
    } else {
        match (&resource, fault.as_ref().map(|f| f.kind)) {
            (_, Some(FaultKind::Status { code })) => Prepared::text(
                StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                "injected fault",
            ),
            (Some(r), _) => resolve(&shared, &state, r),
            (None, _) => Prepared::text(StatusCode::NOT_FOUND, "not found"),
        }
    };
    // A fault only shapes bodies that are the resource itself.
    let body_fault = fault.as_ref().filter(|_| prepared.status == StatusCode::OK);

    let total = prepared.data.len();
    let mut extra: Vec<(header::HeaderName, String)> = std::mem::take(&mut prepared.headers);
    if prepared.ranged && prepared.status == StatusCode::OK {
        extra.push((header::ACCEPT_RANGES, "bytes".into()));
        if let Some(r) = &range_header {
            match parse_range(r, total) {
                RangeAnswer::Full => {}
                RangeAnswer::Part(first, last) => {
                    prepared.status = StatusCode::PARTIAL_CONTENT;
                    prepared.data = prepared.data.slice(first..=last);
                    extra.push((header::CONTENT_RANGE, format!("bytes {first}-{last}/{total}")));
                }
                RangeAnswer::Unsatisfiable => {
                    prepared = Prepared::text(StatusCode::RANGE_NOT_SATISFIABLE, "bad range");
                    extra.push((header::CONTENT_RANGE, format!("bytes */{total}")));
                }
            }
        }
    }

    let len = prepared.data.len();
    let mut entry = entry;
    entry.status = prepared.status.as_u16();
    entry.content_length = len as u64;
    entry.fault = fault.as_ref().map(Fault::label);
    let log = LogGuard::new(Arc::clone(&shared.log), entry, arrived, state.down.subscribe());

    let mut plan = BodyPlan {
        data: if method == Method::HEAD { Bytes::new() } else { prepared.data },
        cut: None,
        stall: None,
        drip_bytes_per_s: None,
        link: state.link.clone(),
        origin_start: shared.start,
        conn,
        log,
    };
    let body_len = plan.data.len();
    match body_fault.map(|f| f.kind) {
        Some(FaultKind::Reset { after_fraction }) => {
            plan.cut = Some((fraction_at(body_len, after_fraction), Cut::Reset));
        }
        Some(FaultKind::Truncate { fraction }) => {
            let at = fraction_at(body_len, fraction);
            // Cutting at the very end would not truncate anything.
            if at < body_len {
                plan.cut = Some((at, Cut::Close));
            }
        }
        Some(FaultKind::Stall { after_fraction, seconds }) => {
            let pause = if seconds.is_finite() { seconds.max(0.0) } else { 0.0 };
            plan.stall =
                Some((fraction_at(body_len, after_fraction), Duration::from_secs_f64(pause)));
        }
        Some(FaultKind::SlowDrip { bytes_per_s }) => {
            plan.drip_bytes_per_s =
                (bytes_per_s.is_finite() && bytes_per_s > 0.0).then_some(bytes_per_s);
        }
        Some(FaultKind::Status { .. } | FaultKind::Outage) | None => {}
    }

    let mut response = Response::new(Body::from_stream(body::stream(plan)));
    *response.status_mut() = prepared.status;
    let headers = response.headers_mut();
    // Any page may play from the origin (the browser player, the peers' pages), and
    // read what a player needs: the clock (`Date`), back-off (`Retry-After`), ranges.
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("Date, Retry-After, Content-Range, Content-Length"),
    );
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(prepared.content_type));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len as u64));
    for (name, value) in extra {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100), RangeAnswer::Part(0, 9));
        assert_eq!(parse_range("bytes=90-", 100), RangeAnswer::Part(90, 99));
        assert_eq!(parse_range("bytes=90-500", 100), RangeAnswer::Part(90, 99));
        assert_eq!(parse_range("bytes=-10", 100), RangeAnswer::Part(90, 99));
        assert_eq!(parse_range("bytes=-500", 100), RangeAnswer::Part(0, 99));
        assert_eq!(parse_range("bytes=100-", 100), RangeAnswer::Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 100), RangeAnswer::Unsatisfiable);
        assert_eq!(parse_range("bytes=5-1", 100), RangeAnswer::Full);
        assert_eq!(parse_range("bytes=0-1,5-6", 100), RangeAnswer::Full);
        assert_eq!(parse_range("items=0-1", 100), RangeAnswer::Full);
        assert_eq!(parse_range("bytes=x-1", 100), RangeAnswer::Full);
        assert_eq!(parse_range("bytes=0-99999999999999999999999", 100), RangeAnswer::Full);
    }
}
