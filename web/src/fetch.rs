//! One request over the browser's `fetch`, reported as the engine's driver events:
//! the first byte (TTFB), progress while the body streams in (read from the
//! `ReadableStream`, so that the estimators see transfer time as they do natively),
//! then the whole body or a typed failure. An `AbortController` cancels it.

use crate::clock::Clock;
use crate::error::describe;
use js_sys::{Reflect, Uint8Array};
use streamsteer::session::RequestId;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, Headers, ReadableStreamDefaultReader, RequestInit, Response};

/// Progress is reported at most this often, ms: enough for abandonment decisions
/// without a session event per network chunk.
const PROGRESS_INTERVAL_MS: f64 = 100.0;

/// What a request asks of `fetch`.
#[derive(Debug, Clone)]
pub(crate) struct FetchJob {
    pub id: RequestId,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub head: bool,
    /// The largest body read ([`BodyLimits`](streamsteer::session::BodyLimits)).
    pub max_bytes: u64,
    /// A byte range was asked for: a server that ignores it is read no further than
    /// the range's end (`max_bytes`), which is not a failure.
    pub ranged: bool,
}

/// A finished request.
#[derive(Debug)]
pub(crate) struct Fetched {
    pub status: u16,
    pub body: Vec<u8>,
    pub ttfb_s: f64,
    pub duration_s: f64,
    /// The URL after redirects (`Response.url`).
    pub final_url: String,
    /// The `Date` header, if the server exposed it.
    pub date: Option<String>,
}

/// A failed request.
#[derive(Debug)]
pub(crate) struct Failed {
    pub status: Option<u16>,
    pub bytes: u64,
    pub retry_after_s: Option<f64>,
    pub message: String,
}

/// What a running request tells the player.
#[derive(Debug)]
pub(crate) enum FetchMsg {
    Started { id: RequestId },
    Progress { id: RequestId, bytes: u64, ttfb_s: f64 },
    Done { id: RequestId, outcome: Result<Fetched, Failed> },
}

/// Runs `job`, calling `report` as it goes; the last call is always `Done`.
pub(crate) async fn run(
    job: FetchJob,
    signal: AbortSignal,
    clock: Clock,
    report: impl Fn(FetchMsg),
) {
    let id = job.id;
    let outcome = fetch(&job, &signal, clock, &report).await;
    report(FetchMsg::Done { id, outcome });
}

async fn fetch(
    job: &FetchJob,
    signal: &AbortSignal,
    clock: Clock,
    report: &impl Fn(FetchMsg),
) -> Result<Fetched, Failed> {
    let fail =
        |status, bytes, message: String| Failed { status, bytes, retry_after_s: None, message };
    let init = RequestInit::new();
    init.set_method(if job.head { "HEAD" } else { "GET" });
    init.set_signal(Some(signal));
    let headers = Headers::new().map_err(|e| fail(None, 0, describe(&e)))?;
    for (k, v) in &job.headers {
        headers.append(k, v).map_err(|e| fail(None, 0, describe(&e)))?;
    }
    init.set_headers(&headers);
    let started = clock.now_s();
    let response = JsFuture::from(crate::global::fetch(&job.url, &init))
        .await
        .map_err(|e| fail(None, 0, describe(&e)))?;
    let response: Response = response
        .dyn_into()
        .map_err(|e| fail(None, 0, format!("not a Response: {}", describe(&e))))?;
    let ttfb_s = clock.now_s() - started;
    let status = response.status();
    if !response.ok() {
        let retry_after_s = response
            .headers()
            .get("retry-after")
            .ok()
            .flatten()
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0);
        return Err(Failed {
            status: Some(status),
            bytes: 0,
            retry_after_s,
            message: format!("HTTP {status}"),
        });
    }
    report(FetchMsg::Started { id: job.id });
    let announced = response
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse::<u64>().ok());
    if !job.ranged && announced.is_some_and(|n| n > job.max_bytes) {
        return Err(too_large(status, 0, job.max_bytes));
    }
    let date = response.headers().get("date").ok().flatten();
    let final_url = response.url();
    let mut body = Vec::new();
    if let Some(stream) = response.body() {
        let reader: ReadableStreamDefaultReader =
            stream.get_reader().dyn_into().map_err(|e| fail(Some(status), 0, describe(&e)))?;
        let mut last_report_ms = f64::NEG_INFINITY;
        loop {
            let chunk = JsFuture::from(reader.read())
                .await
                .map_err(|e| fail(Some(status), body.len() as u64, describe(&e)))?;
            let done = Reflect::get(&chunk, &JsValue::from_str("done"))
                .ok()
                .and_then(|d| d.as_bool())
                .unwrap_or(true);
            if done {
                break;
            }
            if let Ok(value) = Reflect::get(&chunk, &JsValue::from_str("value"))
                && let Some(bytes) = value.dyn_ref::<Uint8Array>()
            {
                let at = body.len();
                let len = bytes.length() as usize;
                if (at + len) as u64 > job.max_bytes {
                    let _ = reader.cancel();
                    if !job.ranged {
                        return Err(too_large(status, at as u64, job.max_bytes));
                    }
                    // The range's end is reached: the rest is not wanted.
                    let keep = job.max_bytes.saturating_sub(at as u64).min(len as u64) as u32;
                    body.resize(at + keep as usize, 0);
                    bytes.subarray(0, keep).copy_to(&mut body[at..]);
                    break;
                }
                body.resize(at + len, 0);
                bytes.copy_to(&mut body[at..]);
            }
            let now_ms = clock.now_s() * 1000.0;
            if now_ms - last_report_ms >= PROGRESS_INTERVAL_MS {
                last_report_ms = now_ms;
                report(FetchMsg::Progress { id: job.id, bytes: body.len() as u64, ttfb_s });
            }
        }
    }
    Ok(Fetched { status, body, ttfb_s, duration_s: clock.now_s() - started, final_url, date })
}

/// A body over its limit: the request fails and is not read further.
fn too_large(status: u16, bytes: u64, max: u64) -> Failed {
    Failed {
        status: Some(status),
        bytes,
        retry_after_s: None,
        message: format!("body larger than the {max}-byte limit"),
    }
}
