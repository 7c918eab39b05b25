//! One request, run as its own task: send, time, stream the body, retry.
//!
//! Each attempt is timed on the tokio clock: TTFB is the time to the response
//! headers, duration the time to the last body byte. Failures are classified (see
//! [`FetchError`]); retryable ones are retried under the kind's [`RetryPolicy`](crate::RetryPolicy)
//! after a seeded, jittered backoff. The task reports to the
//! driver through a channel; aborting the task (on the engine's `Cancel`) stops it
//! at its next await, and the driver drops anything it had already queued.

use crate::config::RequestPolicy;
use crate::event::RequestTiming;
use crate::retry::{Backoff, read_retry_after};
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use std::time::{Duration, SystemTime};
use streamsteer::session::{FetchKind, FetchRequest, RequestId};
use thiserror::Error;
use tokio::sync::mpsc::UnboundedSender;
use tokio::time::Instant;

/// Largest body buffer reserved up front from a `Content-Length`: a lying header must
/// not make the player allocate gigabytes before any byte arrives.
const MAX_RESERVE: u64 = 16 * 1024 * 1024;

/// Why an attempt failed.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum FetchError {
    /// Connection refused or reset, DNS failure, protocol error…
    #[error("network error: {0}")]
    Network(String),
    /// No response headers within the TTFB timeout.
    #[error("no response within {0:.3} s (TTFB timeout)")]
    TtfbTimeout(f64),
    /// The body stopped arriving for longer than the idle timeout.
    #[error("body stalled for {0:.3} s (idle timeout)")]
    IdleTimeout(f64),
    /// The whole request took longer than the total timeout.
    #[error("request exceeded {0:.3} s (total timeout)")]
    TotalTimeout(f64),
    /// The server answered with an error status.
    #[error("HTTP status {0}")]
    Status(u16),
    /// The body ended before its announced length.
    #[error("truncated body: {got} of {expected} bytes")]
    Truncated {
        /// Bytes received.
        got: u64,
        /// Bytes announced (`Content-Length` or the byte range).
        expected: u64,
    },
    /// A manifest body that is not UTF-8.
    #[error("the body is not UTF-8 text")]
    NotText,
}

impl FetchError {
    /// Whether trying again may help.
    pub fn retryable(&self) -> bool {
        match self {
            Self::Status(s) => *s >= 500 || *s == 408 || *s == 429,
            Self::NotText => false,
            _ => true,
        }
    }
}

/// What the request task is given.
#[derive(Debug, Clone)]
pub(crate) struct FetchJob {
    pub req: FetchRequest,
    /// The URL to request (the engine's, plus any CMCD query argument).
    pub url: String,
    /// Extra headers (CMCD headers).
    pub headers: Vec<(&'static str, String)>,
    pub policy: RequestPolicy,
    pub seed: u64,
    pub progress_bytes: u64,
    pub progress_interval: Duration,
}

/// A successful fetch.
#[derive(Debug, Clone)]
pub(crate) struct Fetched {
    pub body: Bytes,
    pub final_url: String,
    pub ttfb: Duration,
    pub duration: Duration,
}

/// A failed fetch (after its retries).
#[derive(Debug, Clone)]
pub(crate) struct Failed {
    pub status: Option<u16>,
    pub bytes: u64,
    pub retry_after: Option<Duration>,
    pub error: FetchError,
}

/// What a request task tells the driver.
#[derive(Debug)]
pub(crate) enum FetchMsg {
    Started { id: RequestId },
    Progress { id: RequestId, bytes: u64, ttfb: Duration },
    Timing(RequestTiming),
    Done { id: RequestId, outcome: Result<Fetched, Failed> },
}

/// Runs `job` to completion (retries included) and reports the outcome.
pub(crate) async fn run(client: reqwest::Client, job: FetchJob, tx: UnboundedSender<FetchMsg>) {
    let outcome = fetch(&client, &job, Some(&tx)).await;
    // The driver may be gone (player stopped): nothing left to tell.
    let _ = tx.send(FetchMsg::Done { id: job.req.id, outcome });
}

/// Fetches with retries; `tx` receives start, progress and per-attempt timing.
pub(crate) async fn fetch(
    client: &reqwest::Client,
    job: &FetchJob,
    tx: Option<&UnboundedSender<FetchMsg>>,
) -> Result<Fetched, Failed> {
    let mut backoff = Backoff::for_request(&job.policy.retry, job.seed, job.req.id);
    let mut attempt = 1u32;
    loop {
        let started = Instant::now();
        let mut meter = Meter { tx, job, last_bytes: 0, last_at: started, started_sent: false };
        let result = attempt_once(client, job, started, &mut meter).await;
        let duration_s = started.elapsed().as_secs_f64();
        let (status, bytes, ttfb_s, error) = match &result {
            Ok((f, status)) => {
                (Some(*status), f.body.len() as u64, Some(f.ttfb.as_secs_f64()), None)
            }
            Err((fail, ttfb)) => {
                (fail.status, fail.bytes, ttfb.map(|t| t.as_secs_f64()), Some(fail.error.clone()))
            }
        };
        let will_retry = error.as_ref().is_some_and(FetchError::retryable)
            && backoff.may_retry(attempt)
            // A steering 429 is the controller's to honour, not ours to retry.
            && !(job.req.kind == FetchKind::Steering && status == Some(429));
        if let Some(tx) = tx {
            let _ = tx.send(FetchMsg::Timing(RequestTiming {
                id: job.req.id,
                attempt,
                url: job.url.clone(),
                pathway: job.req.pathway.clone(),
                kind: job.req.kind,
                status,
                bytes,
                ttfb_s,
                duration_s,
                error: error.as_ref().map(ToString::to_string),
                will_retry,
            }));
        }
        match result {
            Ok((f, _)) => return Ok(f),
            Err((fail, _)) if will_retry => {
                let delay = backoff.delay(attempt, fail.retry_after);
                tracing::debug!(id = job.req.id, attempt, ?delay, error = %fail.error, "retrying");
                tokio::time::sleep(delay).await;
                attempt += 1;
            }
            Err((fail, _)) => return Err(fail),
        }
    }
}

/// Throttled progress reporting.
struct Meter<'a> {
    tx: Option<&'a UnboundedSender<FetchMsg>>,
    job: &'a FetchJob,
    last_bytes: u64,
    last_at: Instant,
    started_sent: bool,
}

impl Meter<'_> {
    fn started(&mut self) {
        if !self.started_sent {
            self.started_sent = true;
            if let Some(tx) = self.tx {
                let _ = tx.send(FetchMsg::Started { id: self.job.req.id });
            }
        }
    }

    fn progress(&mut self, bytes: u64, ttfb: Duration) {
        if !matches!(self.job.req.kind, FetchKind::Media | FetchKind::Init) {
            return;
        }
        let now = Instant::now();
        if bytes.saturating_sub(self.last_bytes) >= self.job.progress_bytes.max(1)
            || now.duration_since(self.last_at) >= self.job.progress_interval
        {
            self.last_bytes = bytes;
            self.last_at = now;
            if let Some(tx) = self.tx {
                let _ = tx.send(FetchMsg::Progress { id: self.job.req.id, bytes, ttfb });
            }
        }
    }
}

fn limit(s: f64) -> Option<Duration> {
    (s.is_finite() && s > 0.0).then(|| Duration::from_secs_f64(s))
}

type AttemptError = (Failed, Option<Duration>);

fn failed(status: Option<u16>, bytes: u64, error: FetchError) -> Failed {
    Failed { status, bytes, retry_after: None, error }
}

fn describe(e: &reqwest::Error) -> String {
    // reqwest's Display omits the cause ("error sending request"): chain the sources.
    let mut s = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

async fn attempt_once(
    client: &reqwest::Client,
    job: &FetchJob,
    started: Instant,
    meter: &mut Meter<'_>,
) -> Result<(Fetched, u16), AttemptError> {
    let policy = &job.policy;
    let total = limit(policy.total_timeout_s);
    let deadline = total.map(|t| started + t);
    let mut rb = client.get(&job.url);
    if let Some(range) = job.req.byte_range.and_then(|b| b.http_range()) {
        rb = rb.header(reqwest::header::RANGE, range);
    }
    for (name, value) in &job.headers {
        rb = rb.header(*name, value);
    }
    let ttfb_limit = match (limit(policy.ttfb_timeout_s), total) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let sent = match ttfb_limit {
        Some(l) => match tokio::time::timeout(l, rb.send()).await {
            Ok(r) => r,
            Err(_) => {
                let err = if Some(l) == total && limit(policy.ttfb_timeout_s) != Some(l) {
                    FetchError::TotalTimeout(l.as_secs_f64())
                } else {
                    FetchError::TtfbTimeout(l.as_secs_f64())
                };
                return Err((failed(None, 0, err), None));
            }
        },
        None => rb.send().await,
    };
    let resp = sent.map_err(|e| (failed(None, 0, FetchError::Network(describe(&e))), None))?;
    let ttfb = started.elapsed();
    let status = resp.status().as_u16();
    if !resp.status().is_success() {
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| read_retry_after(v, SystemTime::now()));
        let fail = Failed {
            status: Some(status),
            bytes: 0,
            retry_after,
            error: FetchError::Status(status),
        };
        return Err((fail, Some(ttfb)));
    }
    meter.started();
    let final_url = resp.url().to_string();
    let announced = resp.content_length();
    let mut buf = BytesMut::with_capacity(announced.unwrap_or(0).min(MAX_RESERVE) as usize);
    let mut stream = resp.bytes_stream();
    let idle = limit(policy.idle_timeout_s);
    loop {
        let remaining = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        let wait = match (idle, remaining) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let next = match wait {
            Some(w) => match tokio::time::timeout(w, stream.next()).await {
                Ok(n) => n,
                Err(_) => {
                    let err = if remaining == Some(w) {
                        FetchError::TotalTimeout(total.map_or(0.0, |t| t.as_secs_f64()))
                    } else {
                        FetchError::IdleTimeout(w.as_secs_f64())
                    };
                    return Err((failed(Some(status), buf.len() as u64, err), Some(ttfb)));
                }
            },
            None => stream.next().await,
        };
        match next {
            None => break,
            Some(Err(e)) => {
                let err = FetchError::Network(describe(&e));
                return Err((failed(Some(status), buf.len() as u64, err), Some(ttfb)));
            }
            Some(Ok(chunk)) => {
                buf.extend_from_slice(&chunk);
                meter.progress(buf.len() as u64, ttfb);
            }
        }
    }
    let got = buf.len() as u64;
    if let Some(expected) = announced.filter(|n| got < *n) {
        let err = FetchError::Truncated { got, expected };
        return Err((failed(Some(status), got, err), Some(ttfb)));
    }
    let mut body = buf.freeze();
    if let Some(range) = job.req.byte_range.filter(|r| r.length > 0) {
        if status == 200 {
            // The server ignored the Range header and sent the whole resource.
            let end = range.offset.saturating_add(range.length);
            if got < end {
                let err = FetchError::Truncated { got, expected: end };
                return Err((failed(Some(status), got, err), Some(ttfb)));
            }
            body = body.slice(range.offset as usize..end as usize);
        } else if got < range.length {
            let err = FetchError::Truncated { got, expected: range.length };
            return Err((failed(Some(status), got, err), Some(ttfb)));
        }
    }
    let fetched = Fetched { body, final_url, ttfb, duration: started.elapsed() };
    Ok((fetched, status))
}
